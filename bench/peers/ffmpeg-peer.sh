#!/usr/bin/env bash
# ffmpeg-peer.sh BG_VIDEO AUDIO GRAPH SECONDS CRF MAXRATE THREADS OUT_DIR [VOICE WPM LINES]
# The FFmpeg command-line peer of `ciak render`: the background video looped, the filter graph
# `ciak bench render` generated from the scene (drawtext / drawbox at the same times), libx264
# with the settings ciak's encoder uses (engine/media/media_enc.c: veryfast, CRF, VBV maxrate =
# bufsize, no scene cut, closed GOPs, THREADS slices on as many threads (never frame threads)
# and NO B-frames, which byte-identical segments need, High profile), AAC audio, HLS output
# with 2 s segments (one keyframe each, as ciak's per-segment encoder sessions). AUDIO may be
# empty (silent scene). THREADS is ciak's count for the size (ck_enc_config_defaults).
#
# With VOICE WPM LINES the peer also speaks, as ciak does for a scene with a speech track:
# LINES has one line per spoken line, "START_SECONDS TEXT_FILE" (the words as ciak says them,
# spoken forms applied: `ciak bench render` writes them). Each is said by the espeak-ng CLI
# here, inside the timed command, and mixed into the bed (AUDIO, or silence without one) the
# way engine/media mixes: the bed at 48 kHz padded to the length, each line added to every
# channel at unity gain from its start (adelay), no normalisation (amix normalize=0).
# Channels as engine/media encodes them: a mono track (and silence) mono, anything else
# stereo, 128 kbit/s either way.
set -euo pipefail
bg=$1 audio=$2 graph=$3 secs=$4 crf=$5 maxrate=$6 threads=$7 out=$8
voice=${9:-} wpm=${10:-} lines=${11:-}
sliced=0
((threads > 1)) && sliced=1
mkdir -p "$out"
ain=() amap=() layout=mono channels=1 rate=128k
if [[ -n $audio ]] &&
    [[ $(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of csv=p=0 "$audio") != 1 ]]; then
    layout=stereo channels=2
fi
if [[ -n $audio ]]; then ain=(-i "$audio"); amap=(-map 1:a -c:a aac -b:a $rate -ac $channels); fi
if [[ -n $lines ]]; then
    # The lines, said; their inputs follow the background (0) and the bed (1, if any).
    script=$out/graph-speech.txt
    cat "$graph" >"$script"
    if [[ -n $audio ]]; then
        echo ";[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=$layout,apad[bed]" >>"$script"
    else
        echo ";anullsrc=r=48000:cl=$layout,aformat=sample_fmts=fltp[bed]" >>"$script"
    fi
    n=0 mix="[bed]" pan="pan=mono|c0=c0"
    [[ $layout == stereo ]] && pan="pan=stereo|c0=c0|c1=c0"
    while read -r start text; do
        [[ -n $start ]] || continue
        espeak-ng -v "$voice" -s "$wpm" -f "$text" -w "$out/line$n.wav"
        ain+=(-i "$out/line$n.wav")
        ms=$(awk -v s="$start" 'BEGIN { printf "%d", s * 1000 + 0.5 }')
        echo ";[$((${#ain[@]} / 2)):a]aresample=48000,aformat=sample_fmts=fltp,$pan,adelay=delays=$ms:all=1[s$n]" >>"$script"
        mix+="[s$n]"
        n=$((n + 1))
    done <"$lines"
    echo ";${mix}amix=inputs=$((n + 1)):normalize=0:duration=first[a]" >>"$script"
    graph=$script amap=(-map '[a]' -c:a aac -b:a $rate)
fi
exec ffmpeg -nostdin -v error -y -stream_loop -1 -i "$bg" "${ain[@]}" -t "$secs" \
    -filter_complex_script "$graph" -map '[v]' "${amap[@]}" \
    -c:v libx264 -preset veryfast -crf "$crf" -maxrate "$maxrate" -bufsize "$maxrate" \
    -profile:v high -threads "$threads" -bf 0 -flags +cgop \
    -x264-params "scenecut=0:open-gop=0:force-cfr=1:sliced-threads=$sliced" \
    -g 60 -keyint_min 60 \
    -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename "$out/seg%03d.ts" \
    "$out/index.m3u8"
