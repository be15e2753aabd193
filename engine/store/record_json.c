/* record_json.c: a validated record back to the JSON input format, for sealing in the store,
 * and the last day of its availability window. */
#include "ck_store.h"

#include <jansson.h>
#include <stdio.h>

static json_t *value_json(const ck_field *f, const ck_value *v)
{
    switch (f->type) {
    case CK_FIELD_STRING:
    case CK_FIELD_ENUM:
        return json_string(v->str ? v->str : "");
    case CK_FIELD_DATE: {
        int y, m, d;
        char buf[16];
        ck_civil_from_days((int32_t)v->i, &y, &m, &d);
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        return json_string(buf);
    }
    case CK_FIELD_MONEY:
    case CK_FIELD_INTEGER:
        return json_integer((json_int_t)v->i);
    case CK_FIELD_BOOLEAN:
        return json_boolean(v->i != 0);
    case CK_FIELD_SET: {
        json_t *a = json_array();
        for (int k = 0; a && k < f->value_count && k < CK_MAX_SET_VALUES; k++)
            if (v->set & (1ull << k))
                json_array_append_new(a, json_string(f->values[k]));
        return a;
    }
    case CK_FIELD_TYPE_COUNT:
        break;
    }
    return json_null();
}

char *ck_record_to_json(const ck_scene *scene, const ck_record *rec)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(rec->id));
    for (int i = 0; i < scene->field_count; i++)
        if (rec->values[i].present)
            json_object_set_new(o, scene->fields[i].name,
                                value_json(&scene->fields[i], &rec->values[i]));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    return s;
}

int32_t ck_record_last_day(const ck_scene *scene, const ck_record *rec)
{
    const ck_availability *a = &scene->availability;
    switch (a->kind) {
    case CK_AVAIL_UNTIL:
        return a->until;
    case CK_AVAIL_DAYS_AFTER:
        if (a->field >= 0 && a->field < scene->field_count && rec->values[a->field].present)
            return (int32_t)rec->values[a->field].i + a->days;
        return INT32_MAX; /* an optional date left empty: no window to close */
    case CK_AVAIL_NONE:
        break;
    }
    return INT32_MAX;
}
