using System.Collections.Concurrent;
using System.Security.Cryptography;
using Hibari.Rtc.Turn;

namespace Hibari.Rtc.TurnHost;

/// <summary>
/// The TURN long-term credentials this node has handed out, one pair per WebRTC connection (issue 15, docs/decisions.md
/// D-57): the username is the connection id, the password 24 random bytes, and both are valid only while that
/// connection lives on this node. Another node never knows them, so credentials of one node fail on every other.
/// Thread-safe: signaling threads issue, the SFU's control context revokes, the TURN server looks up.
/// </summary>
public sealed class TurnCredentialStore : ITurnCredentials
{
    private readonly ConcurrentDictionary<string, string> _passwords = new(StringComparer.Ordinal);

    /// <summary>Credentials for the connection <paramref name="connectionId"/> (the same ones if asked again).</summary>
    public (string Username, string Password) Issue(string connectionId)
    {
        var password = _passwords.GetOrAdd(connectionId, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))
            .Replace('+', '-').Replace('/', '_'));
        return (connectionId, password);
    }

    /// <summary>The connection ended: its credentials stop working. True when it had any.</summary>
    public bool Revoke(string connectionId) => _passwords.TryRemove(connectionId, out _);

    public bool TryGetPassword(string username, out string password) => _passwords.TryGetValue(username, out password!);

    /// <summary>Credentials currently valid.</summary>
    public int Count => _passwords.Count;
}
