using System.Globalization;
using System.Text.Json;
using Hibari.Api;
using Hibari.Api.Contracts;
using Hibari.Config;
using Hibari.Sfu;

namespace Hibari.Node;

/// <summary>
/// The connection operations of the HTTP API on one node (sora-protocol.md §4.2): list, disconnect and push, by
/// channel, connection or client. Cluster-wide scope and 307 redirects to the owner come with placement (C-API-1).
/// </summary>
internal sealed class ConnectionApi(HibariOptions options, SfuEngine sfu, Func<string, string?>? ownerApiUrl = null)
{
    /// <summary>
    /// C-API-1: a channel-scoped call on a node that does not hold the channel's session is answered with 307 to the
    /// holder's external_api_url; null when this node serves it (it holds the session, or nobody does).
    /// </summary>
    private ApiResult? RedirectToOwner(string channelId) =>
        ownerApiUrl?.Invoke(channelId) is { } location ? ApiResult.Redirect(location) : null;

    public void Register(ApiRouter router)
    {
        router.Register("Sora_20201013.ListChannelConnections", ListChannelConnections);
        router.Register("Sora_20201013.ListConnections", ListConnections);
        router.Register("Sora_20151104.DisconnectChannel", (r, _) => Disconnect(r, Target.Channel));
        router.Register("Sora_20151104.DisconnectConnection", (r, _) => Disconnect(r, Target.Connection));
        router.Register("Sora_20151104.DisconnectClient", (r, _) => Disconnect(r, Target.Client));
        router.Register("Sora_20160711.PushChannel", (r, _) => Push(r, Target.Channel));
        router.Register("Sora_20160711.PushConnection", (r, _) => Push(r, Target.Connection));
        router.Register("Sora_20160711.PushClient", (r, _) => Push(r, Target.Client));
    }

    private enum Target { Channel, Connection, Client }

    private ValueTask<ApiResult> ListChannelConnections(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return new(error!);
        if (RedirectToOwner(body.ChannelId) is { } redirect) return new(redirect);
        return new(List(sfu.ListConnections(body.ChannelId)));
    }

    private ValueTask<ApiResult> ListConnections(ApiRequest request, CancellationToken ct) => new(List(sfu.ListConnections()));

    private ApiResult List(IReadOnlyList<ConnectionInfo> connections) =>
        ApiResult.Json(connections.Select(ToBody).ToArray(), ApiJsonContext.Default.ConnectionBodyArray);

    private ValueTask<ApiResult> Disconnect(ApiRequest request, Target target)
    {
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return new(error!);
        if (MissingTarget(target, body.ConnectionId, body.ClientId) is { } missing) return new(missing);
        if (RedirectToOwner(body.ChannelId) is { } redirect) return new(redirect);
        var reason = body.Reason is { ValueKind: JsonValueKind.String } r ? r.GetString()! : "DISCONNECTED-BY-API";
        var n = sfu.Disconnect(body.ChannelId, target == Target.Connection ? body.ConnectionId : null,
            target == Target.Client ? body.ClientId : null, reason);
        return new(n == 0 && target != Target.Channel ? NotFound(target) : ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody));
    }

    private ValueTask<ApiResult> Push(ApiRequest request, Target target)
    {
        if (!request.TryRead(ApiJsonContext.Default.PushRequest, out var body, out var error)) return new(error!);
        if (MissingTarget(target, body.ConnectionId, body.ClientId) is { } missing) return new(missing);
        if (RedirectToOwner(body.ChannelId) is { } redirect) return new(redirect);
        var n = sfu.Push(body.ChannelId, target == Target.Connection ? body.ConnectionId : null,
            target == Target.Client ? body.ClientId : null, body.Data);
        return new(n == 0 && target != Target.Channel ? NotFound(target) : ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody));
    }

    private static ApiResult? MissingTarget(Target target, string? connectionId, string? clientId) => target switch
    {
        Target.Connection when string.IsNullOrEmpty(connectionId) => ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required"),
        Target.Client when string.IsNullOrEmpty(clientId) => ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "client_id is required"),
        _ => null,
    };

    private static ApiResult NotFound(Target target) => target == Target.Connection
        ? ApiResult.Error(404, "ConnectionNotFound", "no such connection in the channel")
        : ApiResult.Error(404, "ClientNotFound", "no connection with that client_id in the channel");

    private ConnectionBody ToBody(ConnectionInfo c) => new()
    {
        ChannelId = c.ChannelId,
        SessionId = c.SessionId,
        ClientId = c.ClientId,
        BundleId = c.BundleId,
        ConnectionId = c.ConnectionId,
        Role = c.Role switch { ConnectionRole.SendRecv => "sendrecv", ConnectionRole.SendOnly => "sendonly", _ => "recvonly" },
        Simulcast = c.Simulcast,
        Spotlight = c.Spotlight,
        CreatedTime = (c.CreatedAt - DateTimeOffset.UnixEpoch).Ticks / 10,
        CreatedTimestamp = c.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        NodeName = options.NodeName,
        EventMetadata = c.EventMetadata,
        Audio = Media(c.Audio, c.AudioCodecType ?? "OPUS", c.AudioBitRate),
        Video = Media(c.Video, c.VideoCodecType ?? options.DefaultVideoCodecType, c.VideoBitRate ?? options.DefaultVideoBitRate),
    };

    private static JsonElement Media(bool enabled, string codecType, int? bitRate)
    {
        var json = !enabled ? "false" : bitRate is { } b
            ? $$"""{"codec_type":"{{codecType}}","bit_rate":{{b.ToString(CultureInfo.InvariantCulture)}}}"""
            : $$"""{"codec_type":"{{codecType}}"}""";
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
