using Hibari.Rtc.Sctp;
using System.Runtime.InteropServices;

namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

/// <summary>
/// Whether Debian's libusrsctp2 (0.9.5, <c>libusrsctp.so.2</c>) can be loaded. The oracle tests FAIL (never skip)
/// when it cannot: scripts/test.sh is expected to install the package.
/// </summary>
public static class UsrsctpAvailable
{
    public const string DebianPackage = "libusrsctp2";
    public const string SoName = UsrsctpNative.Lib;

    private static readonly Lazy<string?> LoadError = new(() =>
    {
        try
        {
            if (!NativeLibrary.TryLoad(SoName, typeof(UsrsctpAvailable).Assembly, null, out _))
                return $"cannot load {SoName}";
            _ = UsrsctpNative.usrsctp_sysctl_get_sctp_ecn_enable(); // resolves an export through the same DllImport path
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return e.Message;
        }
    });

    public static bool IsAvailable => LoadError.Value is null;

    /// <summary>The failure message (with the install hint), or null when the library is usable.</summary>
    public static string? Problem => LoadError.Value is null
        ? null
        : $"usrsctp is not available ({LoadError.Value}). Install it: " +
          $"DEBIAN_FRONTEND=noninteractive apt-get install -y {DebianPackage}  (provides {SoName})";

    /// <summary>Throws with the install hint when the library cannot be loaded.</summary>
    public static void Require()
    {
        if (Problem is { } p) throw new InvalidOperationException(p);
    }
}

/// <summary>
/// The part of usrsctp.h (0.9.5, Linux x86-64) the oracle uses. Only blittable signatures (IntPtr, byte[], ref byte),
/// so the test project needs no AllowUnsafeBlocks; callbacks are [UnmanagedCallersOnly] methods whose native entry
/// points come from RuntimeMethodHandle.GetFunctionPointer().
/// </summary>
internal static class UsrsctpNative
{
    public const string Lib = "libusrsctp.so.2";

    public const int AF_CONN = 123;
    public const int SOCK_STREAM = 1;
    public const int IPPROTO_SCTP = 132;
    public const int SOL_SOCKET = 1;      // Linux values: usrsctp_setsockopt uses the host's
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_LINGER = 13;
    public const int SHUT_WR = 1;

    public const int MSG_EOR = 0x80;      // Linux (the 0x8 in usrsctp.h is the Windows value)
    public const int MSG_NOTIFICATION = 0x2000;

    // Socket options (level IPPROTO_SCTP)
    public const int SCTP_RTOINFO = 0x01;
    public const int SCTP_INITMSG = 0x03;
    public const int SCTP_NODELAY = 0x04;
    public const int SCTP_EXPLICIT_EOR = 0x1b;
    public const int SCTP_EVENT = 0x1e;
    public const int SCTP_RECVRCVINFO = 0x1f;
    public const int SCTP_STATUS = 0x100;
    public const int SCTP_ENABLE_STREAM_RESET = 0x900;
    public const int SCTP_RESET_STREAMS = 0x901;
    public const uint SCTP_ENABLE_RESET_STREAM_REQ = 0x1;
    public const ushort SCTP_STREAM_RESET_OUTGOING = 0x2;

    // Notifications
    public const ushort SCTP_ASSOC_CHANGE = 0x0001;
    public const ushort SCTP_PEER_ADDR_CHANGE = 0x0002;
    public const ushort SCTP_REMOTE_ERROR = 0x0003;
    public const ushort SCTP_SHUTDOWN_EVENT = 0x0005;
    public const ushort SCTP_PARTIAL_DELIVERY_EVENT = 0x0007;
    public const ushort SCTP_STREAM_RESET_EVENT = 0x0009;
    public const ushort SCTP_SENDER_DRY_EVENT = 0x000a;
    public const ushort SCTP_SEND_FAILED_EVENT = 0x000e;
    public const ushort SCTP_COMM_UP = 1, SCTP_COMM_LOST = 2, SCTP_RESTART = 3, SCTP_SHUTDOWN_COMP = 4, SCTP_CANT_STR_ASSOC = 5;
    public const ushort SCTP_STREAM_RESET_INCOMING_SSN = 0x1, SCTP_STREAM_RESET_DENIED = 0x4, SCTP_STREAM_RESET_FAILED = 0x8;

    // sendv
    public const uint SCTP_SENDV_SPA = 4;
    public const uint SCTP_SEND_SNDINFO_VALID = 1, SCTP_SEND_PRINFO_VALID = 2;
    public const ushort SCTP_UNORDERED = 0x0400, SCTP_EOR = 0x2000;
    public const ushort SCTP_PR_SCTP_NONE = 0, SCTP_PR_SCTP_TTL = 1, SCTP_PR_SCTP_RTX = 3;

    // sctp_status.sstat_state
    public const int S_CLOSED = 0, S_COOKIE_WAIT = 2, S_COOKIE_ECHOED = 4, S_ESTABLISHED = 8, S_SHUTDOWN_SENT = 0x10,
        S_SHUTDOWN_RECEIVED = 0x20, S_SHUTDOWN_ACK_SENT = 0x40, S_SHUTDOWN_PENDING = 0x80;

    /// <summary>union sctp_sockstore: 32 bytes, 8-aligned (passed by value to the receive callback).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 32)]
    public struct SockStore { public long A, B, C, D; }

    /// <summary>struct sctp_rcvinfo: 28 bytes (passed by value to the receive callback).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RcvInfo
    {
        public ushort Sid, Ssn, Flags;
        public uint Ppid, Tsn, CumTsn, Context, AssocId;   // Ppid in network order
    }

    [DllImport(Lib)] public static extern void usrsctp_init_nothreads(ushort udpPort, IntPtr connOutput, IntPtr debugPrintf);
    [DllImport(Lib)] public static extern IntPtr usrsctp_socket(int domain, int type, int protocol, IntPtr receiveCb, IntPtr sendCb, uint sbThreshold, IntPtr ulpInfo);
    [DllImport(Lib)] public static extern int usrsctp_setsockopt(IntPtr so, int level, int name, byte[] value, uint len);
    [DllImport(Lib)] public static extern int usrsctp_getsockopt(IntPtr so, int level, int name, byte[] value, ref uint len);
    [DllImport(Lib)] public static extern int usrsctp_set_non_blocking(IntPtr so, int onoff);
    [DllImport(Lib)] public static extern int usrsctp_bind(IntPtr so, byte[] addr, uint len);
    [DllImport(Lib)] public static extern int usrsctp_connect(IntPtr so, byte[] addr, uint len);
    [DllImport(Lib, SetLastError = true)] public static extern nint usrsctp_sendv(IntPtr so, ref byte data, nuint len, IntPtr to, int addrcnt, byte[] info, uint infolen, uint infotype, int flags);
    [DllImport(Lib)] public static extern int usrsctp_shutdown(IntPtr so, int how);
    [DllImport(Lib)] public static extern void usrsctp_close(IntPtr so);
    [DllImport(Lib)] public static extern void usrsctp_conninput(IntPtr addr, ref byte buffer, nuint length, byte ecnBits);
    [DllImport(Lib)] public static extern void usrsctp_register_address(IntPtr addr);
    [DllImport(Lib)] public static extern void usrsctp_deregister_address(IntPtr addr);
    [DllImport(Lib)] public static extern void usrsctp_handle_timers(uint elapsedMilliseconds);
    [DllImport(Lib)] public static extern int usrsctp_sysctl_set_sctp_ecn_enable(uint value);
    [DllImport(Lib)] public static extern uint usrsctp_sysctl_get_sctp_ecn_enable();
}
