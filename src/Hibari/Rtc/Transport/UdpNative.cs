using System.Runtime.InteropServices;

namespace Hibari.Rtc.Transport;

/// <summary>
/// The few Linux system calls <see cref="UdpSendBatch"/> and <see cref="UdpReceiveBatch"/> use (sendmmsg(2),
/// recvmmsg(2)) and the LP64 layout of their structures. Only used on 64-bit Linux (x64, arm64: the same layout);
/// everywhere else, and whenever a call fails for want of the entry point, the batches fall back to
/// <see cref="System.Net.Sockets.Socket"/>.
/// </summary>
internal static unsafe partial class UdpNative
{
    // errno values (asm-generic, the same on x64 and arm64).
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;

    // flags
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;

    // UDP generic segmentation offload (linux/udp.h): level SOL_UDP (= IPPROTO_UDP), type UDP_SEGMENT, a u16 payload.
    public const int SOL_UDP = 17;
    public const int UDP_SEGMENT = 103;

    /// <summary>sizeof(struct sockaddr_in6), the largest address the batches handle.</summary>
    public const int SockaddrMax = 28;
    /// <summary>Stride of the native address area per slot (sockaddr_in6 rounded up to 8).</summary>
    public const int SockaddrStride = 32;

    /// <summary>CMSG_LEN(sizeof(u16)): the kernel insists on exactly this cmsg_len for UDP_SEGMENT.</summary>
    public const int CmsgLenU16 = 16 + 2;
    /// <summary>CMSG_SPACE(sizeof(u16)).</summary>
    public const int CmsgSpaceU16 = 16 + 8;

    /// <summary>True where the structures below match the kernel's (64-bit Linux).</summary>
    public static bool Supported =>
        OperatingSystem.IsLinux() && IntPtr.Size == 8 && sizeof(MMsgHdr) == 64 && sizeof(IoVec) == 16 && sizeof(CmsgHdr) == 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (56 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr (64 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    public const short POLLIN = 1;

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>poll(2) on a managed array (pinned for the call).</summary>
    public static int Poll(PollFd[] fds, int count, int timeoutMs)
    {
        fixed (PollFd* p = fds) return Poll(p, (nuint)count, timeoutMs);
    }

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    public static partial int SendMMsg(int fd, MMsgHdr* messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);
}
