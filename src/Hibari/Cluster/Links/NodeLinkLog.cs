using System.Net;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Links;

/// <summary>Source-generated log messages of the node-link mesh (nothing is logged per frame).</summary>
internal static partial class NodeLinkLog
{
    [LoggerMessage(1, LogLevel.Information, "Node link to {Peer} up ({Local} -> {Remote}, dialled by {Dialer})")]
    public static partial void LinkUp(ILogger logger, string peer, IPEndPoint? local, IPEndPoint? remote, string dialer);

    [LoggerMessage(2, LogLevel.Information, "Node link to {Peer} down: {Reason}")]
    public static partial void LinkDown(ILogger logger, string peer, LinkCloseReason reason);

    [LoggerMessage(3, LogLevel.Warning, "Node link authentication failed with {Remote}: {Detail}")]
    public static partial void AuthenticationFailed(ILogger logger, IPEndPoint? remote, string detail);

    [LoggerMessage(4, LogLevel.Warning, "Node link handshake with {Remote} did not finish within {Timeout}; closed")]
    public static partial void HandshakeTimedOut(ILogger logger, IPEndPoint? remote, TimeSpan timeout);

    [LoggerMessage(5, LogLevel.Debug, "Node link handshake with {Remote} ended: {Detail}")]
    public static partial void HandshakeEnded(ILogger logger, IPEndPoint? remote, string detail);

    [LoggerMessage(6, LogLevel.Debug, "Dial to {Peer} at {EndPoint} failed: {Detail}")]
    public static partial void DialFailed(ILogger logger, string peer, IPEndPoint endPoint, string detail);

    [LoggerMessage(7, LogLevel.Warning, "Dial to {Peer} at {EndPoint}: {Detail}")]
    public static partial void DialedWrongPeer(ILogger logger, string peer, IPEndPoint endPoint, string detail);

    [LoggerMessage(8, LogLevel.Debug, "Duplicate node link to {Peer} closed; kept the link dialled by {Dialer}")]
    public static partial void DuplicateClosed(ILogger logger, string peer, string dialer);

    [LoggerMessage(9, LogLevel.Warning, "Node link to {Peer} ({Remote}) rejected a frame: {Error}; closed")]
    public static partial void FrameRejected(ILogger logger, string peer, IPEndPoint? remote, string error);

    [LoggerMessage(10, LogLevel.Warning, "Node link to {Peer}: nothing received for {Idle}; closed")]
    public static partial void LinkDead(ILogger logger, string peer, TimeSpan idle);

    [LoggerMessage(11, LogLevel.Error, "Node-link handler failed in {Callback} for {Peer}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string callback, string peer);

    [LoggerMessage(12, LogLevel.Warning, "Node-link accept failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "Node link from {Remote} shed: {Pending} handshakes already pending")]
    public static partial void HandshakeShed(ILogger logger, IPEndPoint? remote, int pending);

    [LoggerMessage(14, LogLevel.Warning, "Node link from {Remote} refused: {Detail}")]
    public static partial void Refused(ILogger logger, IPEndPoint? remote, string detail);
}
