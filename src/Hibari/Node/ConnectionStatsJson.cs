using System.Globalization;
using System.Text.Json.Nodes;
using Hibari.Sfu;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Node;

/// <summary>
/// One connection's statistics as GetStatsConnection / GetStatsAllConnections answer them (D-41,
/// docs/research/stats-api.md): nested objects whose leaves are numbers, strings or booleans — never arrays or nulls,
/// which sorastats cannot read. Sora's names where Hibari has the value (the identifiers, `timestamp`,
/// `simulcast.rN.rtp`); what only Hibari measures under `hibari`.
/// </summary>
internal static class ConnectionStatsJson
{
    public static JsonObject Build(ConnectionStats s, DateTimeOffset now)
    {
        var info = s.Info;
        var o = new JsonObject
        {
            ["timestamp"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            ["channel_id"] = info.ChannelId,
            ["session_id"] = info.SessionId ?? "",
            ["client_id"] = info.ClientId,
            ["bundle_id"] = info.BundleId,
            ["connection_id"] = info.ConnectionId,
        };
        // Sora's per-layer receive counters of a simulcast publisher.
        var layers = s.Published.Where(p => p.Rid is not null).ToList();
        if (layers.Count > 0)
        {
            var simulcast = new JsonObject();
            foreach (var g in layers.GroupBy(p => p.Rid!).OrderBy(g => g.Key, StringComparer.Ordinal))
                simulcast[g.Key] = new JsonObject
                {
                    ["rtp"] = new JsonObject
                    {
                        ["total_received_rtp"] = g.Sum(p => p.Packets),
                        ["total_received_rtp_byte_size"] = g.Sum(p => p.Bytes),
                    },
                };
            o["simulcast"] = simulcast;
        }
        var published = new JsonObject();
        foreach (var p in s.Published)
        {
            var t = new JsonObject
            {
                ["kind"] = p.Kind,
                ["codec"] = p.Codec,
                ["ssrc"] = p.Ssrc,
                ["total_received_rtp"] = p.Packets,
                ["total_received_rtp_byte_size"] = p.Bytes,
                ["total_received_frames"] = p.Frames,
                ["total_received_key_frames"] = p.KeyFrames,
                ["total_received_duplicate_rtp"] = p.Duplicates,
                ["total_sent_nack"] = p.NacksSent,
                ["total_sent_key_frame_requests"] = p.KeyFrameRequests,
                ["received_bitrate_bps"] = p.RateBps,
            };
            if (p.Rid is not null) t["rid"] = p.Rid;
            published[p.TrackId] = t;
        }
        var forwarded = new JsonObject();
        foreach (var f in s.Forwarded)
        {
            var t = new JsonObject
            {
                ["sender_connection_id"] = f.SenderConnectionId,
                ["kind"] = f.Kind,
                ["forwarding"] = f.Forwarding,
                ["total_sent_rtp"] = f.Packets,
                ["total_sent_rtp_byte_size"] = f.Bytes,
                ["total_sent_rtx"] = f.Retransmitted,
                ["total_skipped_rtx"] = f.RetransmissionsSkipped,
            };
            if (f.RequestedRid is not null)
            {
                if (f.Rid is not null) t["rid"] = f.Rid;
                t["requested_rid"] = f.RequestedRid;
                if (f.CapRid is not null) t["bandwidth_rid"] = f.CapRid;
                t["total_layer_switches"] = f.LayerSwitches;
                t["total_shed_rtp"] = f.ShedPackets;
            }
            forwarded[f.TrackId] = t;
        }
        var hibari = new JsonObject
        {
            ["role"] = info.Role.ToWireRole().ToWire(),
            ["published"] = published,
            ["forwarded"] = forwarded,
        };
        if (s.Downlink is { } d)
            hibari["downlink"] = new JsonObject
            {
                ["estimated_bitrate_bps"] = d.EstimateBps,
                ["acked_bitrate_bps"] = d.AckedBps,
                ["loss_fraction"] = Math.Round(d.LossFraction, 4),
                ["total_probes"] = d.Probes,
                ["total_probe_padding_byte_size"] = d.PaddingBytes,
            };
        o["hibari"] = hibari;
        return o;
    }
}
