using Hibari.Config;
using Hibari.Sfu;
using Hibari.Signaling.Messages;
using Hibari.Webhooks;
using Microsoft.Extensions.Logging;

namespace Hibari.Signaling;

/// <summary>The connect after authentication: the effective connection, or the close that refuses it.</summary>
internal readonly record struct AuthDecision(ConnectionInfo? Info, SignalingClose? Refused);

/// <summary>Decides whether a connect may proceed and with which settings (the auth webhook and its overrides).</summary>
internal interface IConnectAuthorizer
{
    Task<AuthDecision> AuthorizeAsync(ConnectRequest connect, string connectionId, CancellationToken ct);
}

/// <summary>
/// Calls the auth webhook (fail closed: timeout, non-2xx, bad JSON refuse the connect) and applies what it assigns
/// (docs/protocol-notes.md, "Auth webhook") over what the client asked for. In a cluster the webhook may run twice for one client:
/// once on the node it contacted and again on the node it is redirected to (docs/operations.md).
/// </summary>
internal sealed class ConnectAuthorizer(HibariOptions options, AuthWebhook webhook, SfuEngine sfu, ILogger log) : IConnectAuthorizer
{
    public async Task<AuthDecision> AuthorizeAsync(ConnectRequest connect, string connectionId, CancellationToken ct)
    {
        var counts = sfu.CountsOf(connect.ChannelId);
        var outcome = await webhook.CallAsync(new AuthWebhookRequest
        {
            Connect = connect,
            ConnectionId = connectionId,
            SessionId = sfu.SessionIdOf(connect.ChannelId),
            ChannelConnections = new Webhooks.ChannelCounts(counts.SendRecv, counts.SendOnly, counts.RecvOnly),
        }, ct).ConfigureAwait(false);
        switch (outcome)
        {
            case AuthOutcome.Denied d:
                log.LogInformation("Connect {Id} to {Channel} denied by the auth webhook: {Reason}", connectionId, connect.ChannelId, d.Reason);
                return new AuthDecision(null, d.ToClose());
            case AuthOutcome.Failed f:
                log.LogWarning("Connect {Id} to {Channel} refused: auth webhook failed ({Why})", connectionId, connect.ChannelId, f.Why);
                return new AuthDecision(null, f.ToClose());
            case AuthOutcome.Allowed a:
                var info = Effective(connect, connectionId, a.Overrides);
                if (CodecParamsAllowed(info) is { } notAllowed)
                {
                    log.LogInformation("Connect {Id} to {Channel} refused: {Reason}", connectionId, connect.ChannelId, notAllowed.Reason);
                    return new AuthDecision(null, notAllowed);
                }
                if (DataChannels(connect, a.Overrides, info.DataChannelSignaling, out var specs) is { } invalid)
                {
                    log.LogInformation("Connect {Id} to {Channel} refused: {Reason}", connectionId, connect.ChannelId, invalid.Reason);
                    return new AuthDecision(null, invalid);
                }
                return new AuthDecision(info with { DataChannels = specs }, null);
            default:
                return new AuthDecision(null, SignalingCloses.AuthWebhookFailed);
        }
    }

    /// <summary>
    /// The effective data_channels (the auth webhook's replace the client's); messaging labels need
    /// data_channel_messaging and data-channel signaling (docs/protocol-notes.md, "Messaging").
    /// </summary>
    private SignalingClose? DataChannels(ConnectRequest c, AuthOverrides o, bool dcSignaling, out List<DataChannelSpec> specs)
    {
        specs = [];
        if ((o.DataChannels ?? c.DataChannels) is not { } raw || raw.ValueKind == System.Text.Json.JsonValueKind.Null) return null;
        if (!DataChannelsParser.TryParse(raw, out specs, out var why))
            return SignalingCloses.WithDetail(SignalingCloses.InvalidDataChannels, (o.DataChannels is null ? "" : "auth webhook ") + why);
        if (!specs.Any(s => s.IsMessaging)) return null;
        if (!options.DataChannelMessaging)
            return SignalingCloses.WithDetail(SignalingCloses.InvalidDataChannels, "messaging labels need data_channel_messaging = true on the server");
        if (!dcSignaling)
            return SignalingCloses.WithDetail(SignalingCloses.InvalidDataChannels, "messaging labels need data_channel_signaling: true");
        return null;
    }

    /// <summary>
    /// The video *_params need their sora.conf switch (signaling_vp9_params …, on by default in Hibari) and b_frame: true
    /// needs h264_b_frame / h265_b_frame, as Sora validates them (docs/decisions.md D-34).
    /// </summary>
    private SignalingClose? CodecParamsAllowed(ConnectionInfo info)
    {
        if (info.VideoParams is not { } p) return null;
        string? why = null;
        if (p.HasVp9 && !options.SignalingVp9Params) why = "vp9_params needs signaling_vp9_params = true";
        else if (p.HasAv1 && !options.SignalingAv1Params) why = "av1_params needs signaling_av1_params = true";
        else if (p.HasH264 && !options.SignalingH264Params) why = "h264_params needs signaling_h264_params = true";
        else if (p.HasH265 && !options.SignalingH265Params) why = "h265_params needs signaling_h265_params = true";
        else if (p.H264BFrame == true && !options.H264BFrame) why = "h264_params.b_frame needs h264_b_frame = true";
        else if (p.H265BFrame == true && !options.H265BFrame) why = "h265_params.b_frame needs h265_b_frame = true";
        return why is null ? null : SignalingCloses.WithDetail(SignalingCloses.InvalidVideo, why);
    }

    private ConnectionInfo Effective(ConnectRequest c, string connectionId, AuthOverrides o)
    {
        var audio = o.Audio ?? c.Audio;
        var video = o.Video ?? c.Video;
        var dcSignaling = o.DataChannelSignaling ?? c.DataChannelSignaling ?? options.DataChannelSignaling;
        return new ConnectionInfo
        {
            ConnectionId = connectionId,
            ClientId = o.ClientId ?? c.ClientId ?? connectionId,
            BundleId = o.BundleId ?? c.BundleId ?? connectionId,
            ChannelId = c.ChannelId,
            Role = c.Role.ToConnectionRole(),
            Audio = audio.Enabled,
            AudioCodecType = o.AudioCodecType ?? audio.CodecType,
            AudioBitRate = o.AudioBitRate ?? audio.BitRate,
            Video = video.Enabled,
            VideoCodecType = o.VideoCodecType ?? video.CodecType ?? options.DefaultVideoCodecType,
            VideoBitRate = o.VideoBitRate ?? video.BitRate,
            OpusParams = o.Opus ?? audio.Opus,
            VideoParams = o.H264ProfileLevelId is { } pli
                ? (o.VideoParams ?? video.Params ?? new Hibari.Sdp.VideoCodecParams()) with { H264ProfileLevelId = pli }
                : o.VideoParams ?? video.Params,
            Simulcast = o.Simulcast ?? c.Simulcast,
            SimulcastRid = o.SimulcastRid ?? c.SimulcastRid,
            SimulcastEncodings = o.SimulcastEncodings,
            Spotlight = o.Spotlight ?? c.Spotlight,
            SpotlightNumber = o.SpotlightNumber ?? c.SpotlightNumber,
            SpotlightFocusRid = o.SpotlightFocusRid ?? c.SpotlightFocusRid ?? "r1",
            SpotlightUnfocusRid = o.SpotlightUnfocusRid ?? c.SpotlightUnfocusRid ?? "r0",
            NotifyMetadata = o.SignalingNotifyMetadata ?? c.SignalingNotifyMetadata,
            AuthnNotifyMetadata = c.SignalingNotifyMetadata,
            AuthzNotifyMetadata = o.SignalingNotifyMetadata,
            AuthzMetadata = o.Metadata,
            EventMetadata = o.EventMetadata,
            SignalingNotify = o.SignalingNotify ?? options.SignalingNotify,
            ClusterAffinity = o.ClusterAffinity,
            TurnTcpOnly = o.TurnTcpOnly,
            TurnTlsOnly = o.TurnTlsOnly,
            SoraClient = c.SoraClient,
            ForwardingFilters = o.ForwardingFilters ?? c.ForwardingFilters ?? [],
            ClientSdp = c.Sdp,
            DataChannelSignaling = dcSignaling,
            RpcMethods = dcSignaling && options.DataChannelRpc ? Rpc.RpcMethods.Allowed(o.RpcMethods, log, connectionId) : [],
            IgnoreDisconnectWebsocket = o.IgnoreDisconnectWebsocket ?? c.IgnoreDisconnectWebsocket ?? options.IgnoreDisconnectWebsocket,
        };
    }
}
