using Hibari.Sfu;
using Hibari.Signaling.Messages;

namespace Hibari.Signaling;

/// <summary>The one mapping between the wire's role (signaling, webhooks) and the SFU's.</summary>
internal static class RoleMapping
{
    public static ConnectionRole ToConnectionRole(this Role role) => role switch
    {
        Role.SendRecv => ConnectionRole.SendRecv,
        Role.SendOnly => ConnectionRole.SendOnly,
        _ => ConnectionRole.RecvOnly,
    };

    public static Role ToWireRole(this ConnectionRole role) => role switch
    {
        ConnectionRole.SendRecv => Role.SendRecv,
        ConnectionRole.SendOnly => Role.SendOnly,
        _ => Role.RecvOnly,
    };
}
