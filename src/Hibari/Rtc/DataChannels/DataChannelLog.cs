using Microsoft.Extensions.Logging;

namespace Hibari.Rtc.DataChannels;

internal static partial class DataChannelLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Data channels: protocol error on stream {StreamId}: {Reason}")]
    public static partial void ProtocolError(ILogger logger, ushort streamId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Data channels: {Event} on stream {StreamId} '{Label}'")]
    public static partial void ChannelEvent(ILogger logger, string @event, ushort streamId, string label);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Data channels: {Message} (stream {StreamId})")]
    public static partial void Note(ILogger logger, string message, ushort streamId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data channels: a {Event} handler threw")]
    public static partial void HandlerThrew(ILogger logger, string @event, Exception exception);
}
