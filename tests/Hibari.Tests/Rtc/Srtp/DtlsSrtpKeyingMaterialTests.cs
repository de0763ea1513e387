using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

public sealed class DtlsSrtpKeyingMaterialTests
{
    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80, 60)]
    [InlineData(SrtpProfile.AeadAes128Gcm, 56)]
    public void Server_sends_with_server_keys_and_client_with_client_keys_RFC_5764_4_2(SrtpProfile profile, int length)
    {
        Assert.Equal(length, DtlsSrtpKeyingMaterial.Length(profile));
        var material = new byte[length];
        new Random(5).NextBytes(material);
        var (serverSend, serverReceive) = DtlsSrtpKeyingMaterial.CreateContexts(profile, material, isDtlsClient: false);
        var (clientSend, clientReceive) = DtlsSrtpKeyingMaterial.CreateContexts(profile, material, isDtlsClient: true);

        var toClient = SrtpContextTests.Rtp(1, 50);
        Assert.Equal(SrtpResult.Ok, serverSend.ProtectRtp(toClient, SrtpContextTests.RtpLength(50), out var n));
        Assert.Equal(SrtpResult.AuthenticationFailed, serverReceive.UnprotectRtp((byte[])toClient[..n].Clone(), out _));
        Assert.Equal(SrtpResult.Ok, clientReceive.UnprotectRtp(toClient.AsSpan(0, n), out _));

        var toServer = SrtpContextTests.Rtcp(16);
        Assert.Equal(SrtpResult.Ok, clientSend.ProtectRtcp(toServer, 24, out var m));
        Assert.Equal(SrtpResult.Ok, serverReceive.UnprotectRtcp(toServer.AsSpan(0, m), out _));

        Assert.Throws<ArgumentException>(() => DtlsSrtpKeyingMaterial.CreateContexts(profile, material.AsSpan(1), false));
    }
}
