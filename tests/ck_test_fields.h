/* ck_test_fields.h: a small scene built by hand, one field of each type, shared by the tests
 * of conditions, records and templates so that none of them depends on the scene parser.
 * Header-only (static definitions): include it once, in one test file. */
#ifndef CK_TEST_FIELDS_H
#define CK_TEST_FIELDS_H

#include "ck_scene.h"

static const char *gender_values[] = {"F", "M"};
static const char *gender_labels[] = {"femmina", "maschio"};
static const char *benefit_values[] = {"quattordicesima", "maggiorazione", "assegno"};
static const char *benefit_labels[] = {"quattordicesima", "maggiorazione sociale",
                                       "assegno al nucleo"};
static const char *region_values[] = {"Lazio", "Molise", "Campania"};

enum { F_FIRST, F_LAST, F_GENDER, F_DATE, F_AMOUNT, F_INST, F_MARRIED, F_BENEFITS, F_REGION, NF };

static ck_field fields[NF];
static ck_scene scene;

static void make_scene(void)
{
    fields[F_FIRST] = (ck_field){.name = "first_name",
                                 .type = CK_FIELD_STRING,
                                 .required = true,
                                 .max_length = 40,
                                 .min = 1,
                                 .max = 0};
    fields[F_LAST] = (ck_field){
        .name = "last_name", .type = CK_FIELD_STRING, .required = true, .min = 1, .max = 0};
    fields[F_GENDER] = (ck_field){.name = "gender",
                                  .type = CK_FIELD_ENUM,
                                  .required = true,
                                  .values = gender_values,
                                  .labels = gender_labels,
                                  .value_count = 2,
                                  .min = 1,
                                  .max = 0};
    fields[F_DATE] = (ck_field){
        .name = "payment_date", .type = CK_FIELD_DATE, .required = true, .min = 1, .max = 0};
    fields[F_AMOUNT] = (ck_field){
        .name = "amount", .type = CK_FIELD_MONEY, .required = true, .min = 0, .max = 100000000};
    fields[F_INST] =
        (ck_field){.name = "installments", .type = CK_FIELD_INTEGER, .min = 0, .max = 10000};
    fields[F_MARRIED] =
        (ck_field){.name = "is_married", .type = CK_FIELD_BOOLEAN, .min = 1, .max = 0};
    fields[F_BENEFITS] = (ck_field){.name = "benefits",
                                    .type = CK_FIELD_SET,
                                    .values = benefit_values,
                                    .labels = benefit_labels,
                                    .value_count = 3,
                                    .min = 1,
                                    .max = 0};
    fields[F_REGION] = (ck_field){.name = "region",
                                  .type = CK_FIELD_ENUM,
                                  .values = region_values,
                                  .value_count = 3,
                                  .min = 1,
                                  .max = 0};
    scene.fields = fields;
    scene.field_count = NF;
    scene.file = "scene.json";
}

#endif
