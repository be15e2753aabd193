#!/usr/bin/env bash
# make-assets.sh: writes the generated assets the campaigns in scenes/ use, into
# assets/generated/ (gitignored). Nothing is downloaded: backgrounds and pictograms come from
# FFmpeg's lavfi sources, voice-overs from espeak-ng.
#
#   scripts/make-assets.sh           make what is missing or older than its inputs
#   scripts/make-assets.sh --force   make everything again
#
# Outputs (one line printed per file):
#   DejaVuSans.ttf               fallback font (characters Titillium Web lacks)
#   bg-blue.mp4, bg-teal.mp4,    1280x720, 30 fps, H.264 yuv420p, 10 s loops (the motion is
#   bg-warm.mp4                  periodic in 10 s, so frame 300 would equal frame 0)
#   <campaign>-icon.png          a small RGBA pictogram per campaign (image layers)
#   <campaign>-voice.m4a         the campaign's voice-over (AAC, 48 kHz, mono), exactly the scene's
#                                duration, from scenes/<campaign>/voiceover.txt
#
# voiceover.txt: one line per sentence, "START | text", START in seconds on the scene clock
# (the matching caption starts there too). Blank lines and lines starting with # are ignored.
# The voice-over is the same for every viewer: it must contain no personal data. The person's
# own lines (name, dates, amounts) are the scene's "speech" track, said by ciak in pauses left
# here (docs/scene-format.md, Speech).
#
# Runs from any directory. An output is kept when it exists and is newer than this script
# and than its inputs.
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SCRIPT")/.." && pwd)"
cd "$ROOT"

OUT=assets/generated
FORCE=0
for arg in "$@"; do
    case "$arg" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,24p' "$SCRIPT" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-assets.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

die() { echo "make-assets.sh: $*" >&2; exit 1; }
need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' is required but not installed (Debian: apt-get install $2)"
}
need ffmpeg ffmpeg
need ffprobe ffmpeg
need espeak-ng espeak-ng
need sox sox
need soxi sox

FFMPEG=(ffmpeg -nostdin -hide_banner -loglevel error -y)
FILTERS="$("${FFMPEG[@]}" -filters 2>/dev/null || true)"
for f in geq lutrgb drawtext color; do
    [[ $FILTERS == *" $f "* ]] ||
        die "this ffmpeg lacks the '$f' filter (Debian's ffmpeg package has it)"
done
[[ "$("${FFMPEG[@]}" -encoders 2>/dev/null || true)" == *" libx264 "* ]] ||
    die "this ffmpeg lacks the libx264 encoder (Debian's ffmpeg package has it)"
[[ "$(espeak-ng --voices=it 2>/dev/null || true)" == *" it "* ]] ||
    die "espeak-ng has no Italian voice 'it' (Debian: apt-get install espeak-ng-data)"

FONT_SRC=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
BOLD=assets/fonts/TitilliumWeb-Bold.ttf
[[ -f $FONT_SRC ]] || die "$FONT_SRC not found (Debian: apt-get install fonts-dejavu-core)"
[[ -f $BOLD ]] || die "$BOLD not found: run from a full checkout of the repository"

mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# fresh OUTPUT [INPUT...]: the output exists, is not empty, and is newer than this script and
# every input.
fresh() {
    local out=$1 dep
    shift
    ((FORCE == 0)) && [[ -s $out && $out -nt $SCRIPT ]] || return 1
    for dep in "$@"; do [[ $out -nt $dep ]] || return 1; done
}
kept() { printf 'kept  %s\n' "$1"; }
made() { printf 'made  %-40s %8s bytes\n' "$1" "$(stat -c %s "$1")"; }
# publish TMPFILE OUTPUT: move a finished file into place (never a half-written output).
publish() { mv -f "$1" "$2"; made "$2"; }

# ---- fallback font ----
font_out=$OUT/DejaVuSans.ttf
if fresh "$font_out" "$FONT_SRC"; then kept "$font_out"; else
    cp "$FONT_SRC" "$TMP/font.ttf"
    publish "$TMP/font.ttf" "$font_out"
fi

# ---- looping backgrounds ----
# A luminance field computed at 160x90 (cheap), mapped to colour with lutrgb and scaled up
# smoothly: a diagonal gradient, two soft light blobs on circular paths and faint moving
# diagonal bands. Every motion is periodic in P (one turn per 10 s), so the clip loops
# without a seam.
P='2*PI*T/10'
FIELD="255*(0.30*(1-(X/W+Y/H)/2)"
FIELD+="+0.55*exp(-(pow(X/W-0.28-0.12*sin($P),2)+pow(Y/H-0.38-0.10*cos($P),2))/0.05)"
FIELD+="+0.35*exp(-(pow(X/W-0.74-0.10*cos($P),2)+pow(Y/H-0.68-0.10*sin($P),2))/0.04)"
FIELD+="+0.05*sin(6*(X/W-Y/H)+$P))"

# make_bg NAME LUTRGB: the colour map turns the field (0..~235) into RGB. A keyframe every
# second and none elsewhere: segments start on whole seconds, so a renderer that seeks to a
# segment's first frame decodes from there instead of from an earlier keyframe (`ciak check`
# says so of a background video whose keyframes do not fall on its segments).
make_bg() {
    local out=$OUT/$1.mp4
    if fresh "$out"; then kept "$out"; return; fi
    "${FFMPEG[@]}" -f lavfi \
        -i "color=c=black:s=160x90:r=30:d=10,format=gray,geq=lum='clip($FIELD,0,255)',format=rgb24,lutrgb=$2,scale=1280:720:flags=bicubic,format=yuv420p" \
        -an -c:v libx264 -preset veryfast -crf 28 -g 30 -keyint_min 30 -sc_threshold 0 -pix_fmt yuv420p \
        -movflags +faststart "$TMP/bg.mp4"
    publish "$TMP/bg.mp4" "$out"
}
# Institutional blue (#06..., deep navy to a soft mid-blue glow).
make_bg bg-blue "r='6+val*0.22':g='28+val*0.38':b='82+val*0.55'"
# Teal (work and employment): deep blue-green.
make_bg bg-teal "r='4+val*0.10':g='38+val*0.42':b='62+val*0.40'"
# Warm (pensions): deep plum with an amber glow; white text stays above 4.5:1.
make_bg bg-warm "r='44+val*0.50':g='16+val*0.26':b='52+val*0.16'"

# ---- pictograms (256x256 RGBA PNG) ----
# Anti-aliased shapes from geq (alpha = coverage), glyphs from drawtext with Titillium Web.
# rrect CX CY HALF_W HALF_H R: coverage (0..1) of a rounded rectangle.
rrect() {
    echo "clip($5-hypot(max(abs(X-$1)-($3-$5),0),max(abs(Y-$2)-($4-$5),0))+0.5,0,1)"
}
# seg AX AY BX BY: distance from the pixel to the segment A-B (uses registers 0).
seg() {
    local dx=$(($3 - $1)) dy=$(($4 - $2))
    echo "(st(0,clip(((X-$1)*$dx+(Y-$2)*$dy)/$((dx * dx + dy * dy)),0,1))*0+hypot(X-$1-ld(0)*$dx,Y-$2-ld(0)*$dy))"
}
DT="drawtext=fontfile=$BOLD"

# make_icon NAME FILTER: FILTER turns a transparent 256x256 RGBA frame into the pictogram.
make_icon() {
    local out=$OUT/$1-icon.png
    if fresh "$out" "$BOLD"; then kept "$out"; return; fi
    "${FFMPEG[@]}" -f lavfi -i "color=c=black@0:s=256x256:d=1,format=rgba,$2" \
        -frames:v 1 -pix_fmt rgba "$TMP/icon.png"
    publish "$TMP/icon.png" "$out"
}

# Assegno sociale: a gold coin with the euro sign.
D='hypot(X-127.5,Y-127.5)'
make_icon assegno-sociale \
    "geq=r='if(between($D,96,104),214,252)':g='if(between($D,96,104),160,196)':b='if(between($D,96,104),20,40)':a='255*clip(121-$D,0,1)',$DT:text='€':fontsize=150:fontcolor=0x0b3d91:x=(w-tw)/2:y=(h-th)/2"

# RED: a form with a blue header band and text lines.
DOC=$(rrect 128 128 86 114 20)
LINES='between(X,66,190)*(between(Y,112,122)+between(Y,142,152)+between(Y,172,182)+between(Y,202,212)*lt(X,150))'
make_icon red-sollecito \
    "geq=r='if(lt(Y,86),11,if($LINES,150,255))':g='if(lt(Y,86),61,if($LINES,170,255))':b='if(lt(Y,86),145,if($LINES,200,255))':a='255*$DOC',$DT:text='RED':fontsize=54:fontcolor=white:x=(w-tw)/2:y=50-th/2"

# NASpI accolta: a green disc with a white check mark.
CHECK="clip(14.5-min($(seg 74 132 112 170),$(seg 112 170 186 92)),0,1)"
make_icon naspi-accolta \
    "geq=r='26+229*$CHECK':g='135+120*$CHECK':b='84+171*$CHECK':a='255*clip(121-$D,0,1)'"

# Neopensionato: a calendar page showing the 1st of the month.
CAL=$(rrect 128 136 104 104 22)
RINGS="($(rrect 84 40 10 22 8)+$(rrect 172 40 10 22 8))"
make_icon neopensionato \
    "geq=r='if(gt($RINGS,0.5),40,if(lt(Y,86),11,255))':g='if(gt($RINGS,0.5),40,if(lt(Y,86),61,255))':b='if(gt($RINGS,0.5),60,if(lt(Y,86),145,255))':a='255*max($CAL,$RINGS)',$DT:text='1':fontsize=130:fontcolor=0x0b3d91:x=(w-tw)/2:y=166-th/2"

# ---- voice-overs ----
# scene_duration FILE: the top-level "duration" of a scene.json.
scene_duration() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration"])' "$1"
    else
        sed -n 's/^  "duration": *\([0-9.]*\).*/\1/p' "$1" | head -n 1
    fi
}

# make_voice CAMPAIGN: speaks each line of voiceover.txt, places it at its start time and
# pads the whole to the scene's duration.
make_voice() {
    local c=$1 dir=scenes/$1
    local txt=$dir/voiceover.txt scene=$dir/scene.json out=$OUT/$1-voice.m4a
    [[ -f $scene ]] || die "$scene not found (needed for the duration of $txt)"
    if fresh "$out" "$txt" "$scene"; then kept "$out"; return; fi
    local dur
    dur=$(scene_duration "$scene")
    [[ $dur =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$scene: no top-level \"duration\""
    local parts=() cursor=0 n=0 lineno=0 line start text clip len gap
    while IFS= read -r line || [[ -n $line ]]; do
        lineno=$((lineno + 1))
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        [[ $line =~ ^[[:space:]]*([0-9]+(\.[0-9]+)?)[[:space:]]*\|[[:space:]]*(.+)$ ]] ||
            die "$txt:$lineno: expected 'START | text'"
        start=${BASH_REMATCH[1]} text=${BASH_REMATCH[3]}
        n=$((n + 1))
        clip=$TMP/$c-$n.wav
        printf '%s\n' "$text" >"$TMP/line.txt"
        espeak-ng -v it -s 150 -f "$TMP/line.txt" -w "$TMP/raw.wav"
        # Trim the silence espeak-ng leaves at the end, so the timing check is honest.
        sox "$TMP/raw.wav" -r 48000 -c 1 "$clip" reverse silence 1 0.02 0.3% reverse norm -3
        gap=$(awk -v s="$start" -v c="$cursor" 'BEGIN { printf "%.4f", s - c }')
        if awk -v g="$gap" 'BEGIN { exit !(g < -0.0005) }'; then
            die "$txt:$lineno: starts at $start s but the previous sentence ends at $cursor s: move it later or shorten the previous one"
        fi
        if awk -v g="$gap" 'BEGIN { exit !(g > 0.0005) }'; then
            sox -n -r 48000 -c 1 "$TMP/$c-$n-gap.wav" trim 0 "$gap"
            parts+=("$TMP/$c-$n-gap.wav")
        fi
        parts+=("$clip")
        len=$(soxi -D "$clip")
        cursor=$(awk -v s="$start" -v l="$len" 'BEGIN { printf "%.4f", s + l }')
    done <"$txt"
    ((n > 0)) || die "$txt has no lines"
    if awk -v c="$cursor" -v d="$dur" 'BEGIN { exit !(c > d + 0.0005) }'; then
        die "$txt: the last sentence ends at $cursor s, after the scene's duration ($dur s)"
    fi
    sox "${parts[@]}" "$TMP/$c-voice.wav"
    "${FFMPEG[@]}" -i "$TMP/$c-voice.wav" -af "apad=whole_dur=$dur" -t "$dur" \
        -c:a aac -b:a 96k -ar 48000 -ac 1 -movflags +faststart "$TMP/voice.m4a"
    publish "$TMP/voice.m4a" "$out"
}

shopt -s nullglob
for txt in scenes/*/voiceover.txt; do
    make_voice "$(basename "$(dirname "$txt")")"
done
