namespace Hibari.Cluster.Links;

internal enum HandshakeFailure
{
    None,
    /// <summary>The other side closed before the handshake ended.</summary>
    Closed,
    /// <summary>Bytes that are not the expected handshake frame.</summary>
    Protocol,
    /// <summary>A well-formed proof that does not verify: the other side does not know the secret.</summary>
    BadProof,
    /// <summary>The other side sent Refused.</summary>
    Refused,
    /// <summary>The acceptor is not the node the dialer was looking for.</summary>
    WrongPeer,
}

/// <summary>Result of one side of the handshake. On success <see cref="PeerName"/> is authenticated.</summary>
internal readonly record struct HandshakeOutcome(
    HandshakeFailure Failure,
    string Detail,
    string PeerName = "",
    HelloFlags Flags = HelloFlags.None,
    byte[]? DialerNonce = null,
    FrameError FrameError = FrameError.None,
    RefusalCode Refusal = RefusalCode.Unspecified)
{
    public bool Succeeded => Failure == HandshakeFailure.None;

    public static HandshakeOutcome Fail(HandshakeFailure failure, string detail, FrameError error = FrameError.None) => new(failure, detail, FrameError: error);
}

/// <summary>
/// The two sides of the challenge-response handshake (README.md, "Handshake"). The acceptor speaks first, so a
/// dialer that reaches a service that never speaks (a Raft listener) learns nothing and times out.
/// Both procedures run under the caller's handshake deadline and leave any frame after the handshake in the
/// connection's reader for the link.
/// </summary>
internal static class LinkHandshake
{
    /// <summary>Acceptor, steps 1-2: send Challenge, read and verify Hello. The caller answers Welcome or Refused.</summary>
    public static async Task<HandshakeOutcome> AcceptAsync(LinkConnection connection, LinkAuthenticator authenticator, string localName, CancellationToken cancellationToken)
    {
        var nonceA = LinkAuthenticator.NewNonce();
        await connection.WriteFrameAsync(Frame.Challenge(nonceA, localName), cancellationToken).ConfigureAwait(false);

        var inbound = await connection.Reader.ReadAsync(NodeLinkFrameCodec.HandshakeMaxPayload, cancellationToken).ConfigureAwait(false);
        if (Reject(inbound, FrameType.Hello, out var hello) is { } failure) return failure;

        if (!authenticator.VerifyHello(nonceA.AsSpan(), hello.Name!, hello.Mac.Span))
            return HandshakeOutcome.Fail(HandshakeFailure.BadProof, $"Hello proof from '{hello.Name}' does not verify (wrong cluster secret?)");

        return new HandshakeOutcome(HandshakeFailure.None, "", hello.Name!, hello.Flags, hello.Nonce.ToArray());
    }

    /// <summary>Acceptor, step 3: the Welcome that proves this node knows the secret too.</summary>
    public static Frame Welcome(LinkAuthenticator authenticator, in HandshakeOutcome accepted, string localName) =>
        Frame.Welcome(authenticator.WelcomeMac(accepted.DialerNonce!, localName));

    /// <summary>Dialer: read Challenge, send Hello, read and verify Welcome.</summary>
    /// <param name="expectedPeer">If set, a Challenge from another name ends the handshake before Hello.</param>
    public static async Task<HandshakeOutcome> DialAsync(LinkConnection connection, LinkAuthenticator authenticator, string localName,
        HelloFlags flags, string? expectedPeer, CancellationToken cancellationToken)
    {
        var inbound = await connection.Reader.ReadAsync(NodeLinkFrameCodec.HandshakeMaxPayload, cancellationToken).ConfigureAwait(false);
        if (Reject(inbound, FrameType.Challenge, out var challenge) is { } failure) return failure;
        string acceptorName = challenge.Name!;
        if (expectedPeer is not null && !string.Equals(acceptorName, expectedPeer, StringComparison.Ordinal))
            return HandshakeOutcome.Fail(HandshakeFailure.WrongPeer, $"the endpoint answers as '{acceptorName}', not '{expectedPeer}'");

        var nonceD = LinkAuthenticator.NewNonce();
        var mac = authenticator.HelloMac(challenge.Nonce.Span, localName);
        await connection.WriteFrameAsync(Frame.Hello(flags, localName, nonceD, mac), cancellationToken).ConfigureAwait(false);

        inbound = await connection.Reader.ReadAsync(NodeLinkFrameCodec.HandshakeMaxPayload, cancellationToken).ConfigureAwait(false);
        if (Reject(inbound, FrameType.Welcome, out var welcome) is { } refusal) return refusal;
        if (!authenticator.VerifyWelcome(nonceD, acceptorName, welcome.Mac.Span))
            return HandshakeOutcome.Fail(HandshakeFailure.BadProof, $"Welcome proof from '{acceptorName}' does not verify (wrong cluster secret?)");

        return new HandshakeOutcome(HandshakeFailure.None, "", acceptorName, flags);
    }

    /// <summary>Null if <paramref name="inbound"/> is a well-formed frame of type <paramref name="expected"/>, else why not.</summary>
    private static HandshakeOutcome? Reject(in InboundFrame inbound, FrameType expected, out Frame frame)
    {
        frame = default;
        if (inbound.EndOfStream) return HandshakeOutcome.Fail(HandshakeFailure.Closed, $"closed before {expected}");
        if (inbound.Error != FrameError.None) return HandshakeOutcome.Fail(HandshakeFailure.Protocol, $"expected {expected}: {inbound.Error}", inbound.Error);
        var error = NodeLinkFrameCodec.DecodePayload(inbound.Type, inbound.Payload, out frame);
        if (error != FrameError.None) return HandshakeOutcome.Fail(HandshakeFailure.Protocol, $"{inbound.Type} is {error}", error);
        if (frame.Type == FrameType.Refused && expected != FrameType.Hello)
            return new HandshakeOutcome(HandshakeFailure.Refused, $"refused ({frame.Refusal}): {frame.Reason}", Refusal: frame.Refusal);
        if (frame.Type != expected) return HandshakeOutcome.Fail(HandshakeFailure.Protocol, $"expected {expected}, got {frame.Type}");
        return null;
    }
}
