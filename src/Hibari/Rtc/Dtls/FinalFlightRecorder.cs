namespace Hibari.Rtc.Dtls;

/// <summary>
/// Watches the datagrams BouncyCastle sends during the handshake (on the handshake's pool thread) for two things the
/// managed record layer needs afterwards: the highest epoch-1 sequence number BouncyCastle used (ours continue above
/// it), and our last flight, to send again if the peer shows it was lost (RFC 6347 §4.2.4; docs/dtls.md).
/// </summary>
/// <remarks>
/// The last flight of either side of a DTLS 1.2 handshake is the one carrying ChangeCipherSpec and Finished (the
/// server's: [NewSessionTicket,] ChangeCipherSpec, Finished); BouncyCastle sends those records as datagrams of their
/// own, after any earlier message. So the flight is the datagram with the last ChangeCipherSpec and everything sent
/// after it; a retransmission of that flight during the handshake simply starts it again.
/// </remarks>
internal sealed class FinalFlightRecorder
{
    private const int MaxDatagrams = 8;
    private readonly List<byte[]> _flight = [];

    /// <summary>The highest epoch-1 sequence number seen going out; -1 if none.</summary>
    public long HighestEpoch1Sequence { get; private set; } = -1;

    public IReadOnlyList<byte[]> Flight => _flight;

    public void Record(ReadOnlySpan<byte> datagram)
    {
        var changeCipherSpec = false;
        var offset = 0;
        while (ManagedRecordLayer.TryReadHeader(datagram, ref offset, out var type, out var epoch, out var sequence))
        {
            if (type == ManagedRecordLayer.ChangeCipherSpec && epoch == 0) changeCipherSpec = true;
            if (epoch == 1 && sequence > HighestEpoch1Sequence) HighestEpoch1Sequence = sequence;
        }
        if (changeCipherSpec) _flight.Clear();
        else if (_flight.Count == 0) return;
        if (_flight.Count < MaxDatagrams) _flight.Add(datagram.ToArray());
    }
}
