using Hibari.Cluster.Load;

namespace Hibari.Tests.Cluster;

public sealed class LoadReportTests
{
    private sealed class Clock : TimeProvider
    {
        public long Ticks = 1_000_000;
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(int ms) => Ticks += ms * TimeSpan.TicksPerMillisecond;
    }

    private static LoadReport Sample() => new(7, new Dictionary<string, int>(StringComparer.Ordinal) { ["room-1"] = 5, ["ルーム"] = 2 });

    [Fact]
    public void A_report_round_trips_with_its_channel_counts()
    {
        var back = LoadReport.Decode(Sample().Encode());
        Assert.NotNull(back);
        Assert.Equal(7, back.Connections);
        Assert.Equal(5, back.ChannelConnections["room-1"]);
        Assert.Equal(2, back.ChannelConnections["ルーム"]);
    }

    [Fact]
    public void Truncated_extended_negative_or_foreign_version_reports_are_refused()
    {
        var bytes = Sample().Encode();
        for (var n = 0; n < bytes.Length; n++) Assert.Null(LoadReport.Decode(bytes.AsSpan(0, n)));
        Assert.Null(LoadReport.Decode([.. bytes, 0]));
        var foreign = (byte[])bytes.Clone();
        foreign[0] = 2;
        Assert.Null(LoadReport.Decode(foreign));
        Assert.Null(LoadReport.Decode(new LoadReport(-1, new Dictionary<string, int>()).Encode()));
    }

    [Fact]
    public void Random_bytes_never_throw_and_are_counted_as_malformed()
    {
        var board = new LoadBoard(new Clock());
        var random = new Random(3);
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) ? n : 20_000;
        var seed = Sample().Encode();
        for (var i = 0; i < iterations; i++)
        {
            var data = (byte[])seed.Clone();
            if (i % 2 == 0) data[random.Next(data.Length)] = (byte)random.Next(256);
            else { data = new byte[random.Next(64)]; random.NextBytes(data); }
            board.OnReport("peer", data);
        }
        Assert.True(board.Malformed > iterations / 3);
    }

    [Fact]
    public void The_board_keeps_the_latest_report_and_forgets_it_when_stale()
    {
        var clock = new Clock();
        var board = new LoadBoard(clock);
        Assert.Null(board.Of("n2"));
        board.OnReport("n2", Sample().Encode());
        Assert.Equal(7, board.Of("n2")!.Connections);
        board.OnReport("n2", new LoadReport(9, new Dictionary<string, int>()).Encode());
        Assert.Equal(9, board.Of("n2")!.Connections);
        clock.Advance((int)LoadBoard.StaleAfter.TotalMilliseconds + 1);
        Assert.Null(board.Of("n2"));
        Assert.True(board.AgeOf("n2") > LoadBoard.StaleAfter);
        board.OnReport("n2", Sample().Encode());
        board.Forget("n2");
        Assert.Null(board.Of("n2"));
    }
}
