#!/usr/bin/env bash
# ffmpeg-peer.sh BG_VIDEO AUDIO GRAPH SECONDS CRF MAXRATE OUT_DIR
# The FFmpeg command-line peer of `ciak render`: the background video looped, the filter graph
# `ciak bench render` generated from the scene (drawtext / drawbox at the same times), libx264
# with the settings ciak's encoder uses (engine/media/media_enc.c: veryfast, CRF, VBV maxrate =
# bufsize, no scene cut, closed GOPs, ONE thread and NO B-frames, which byte-identical segments
# need, High profile), AAC audio, HLS output with 2 s segments (one keyframe each, as ciak's
# per-segment encoder sessions). AUDIO may be empty (silent scene).
set -euo pipefail
bg=$1 audio=$2 graph=$3 secs=$4 crf=$5 maxrate=$6 out=$7
mkdir -p "$out"
ain=() amap=()
if [[ -n $audio ]]; then ain=(-i "$audio"); amap=(-map 1:a -c:a aac -b:a 128k); fi
exec ffmpeg -nostdin -v error -y -stream_loop -1 -i "$bg" "${ain[@]}" -t "$secs" \
    -filter_complex_script "$graph" -map '[v]' "${amap[@]}" \
    -c:v libx264 -preset veryfast -crf "$crf" -maxrate "$maxrate" -bufsize "$maxrate" \
    -profile:v high -threads 1 -bf 0 -flags +cgop -x264-params scenecut=0:open-gop=0:force-cfr=1 \
    -g 60 -keyint_min 60 \
    -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename "$out/seg%03d.ts" \
    "$out/index.m3u8"
