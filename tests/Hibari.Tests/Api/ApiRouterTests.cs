using Hibari.Api;

namespace Hibari.Tests.Api;

public sealed class ApiRouterTests
{
    private static readonly ApiOperation Nothing = (_, _) => ValueTask.FromResult(ApiResult.Error(418, "Teapot", "unused"));

    [Fact]
    public void Registered_target_is_found_by_its_exact_string()
    {
        var router = new ApiRouter();
        router.Register("Sora_20211215.ListClusterNodes", Nothing);

        Assert.True(router.TryGet("Sora_20211215.ListClusterNodes", out var operation));
        Assert.Same(Nothing, operation);
        Assert.False(router.TryGet("Sora_20211215.listclusternodes", out _));
        Assert.False(router.TryGet("Sora_20211216.ListClusterNodes", out _));
    }

    [Fact]
    public void Registering_a_target_twice_is_an_argument_error()
    {
        var router = new ApiRouter();
        router.Register("Sora_20211215.GetMode", Nothing);

        var error = Assert.Throws<ArgumentException>(() => router.Register("Sora_20211215.GetMode", Nothing));
        Assert.Contains("Sora_20211215.GetMode", error.Message);
    }

    [Theory]
    [InlineData("GetMode")]
    [InlineData("Sora_2021.GetMode")]
    [InlineData("")]
    public void Registering_a_malformed_target_is_an_argument_error(string target) =>
        Assert.Throws<ArgumentException>(() => new ApiRouter().Register(target, Nothing));

    [Fact]
    public void Targets_lists_every_registration_sorted()
    {
        var router = new ApiRouter();
        router.Register("Sora_20211215.GetMode", Nothing);
        router.Register("Sora_20171010.GetStatsReport", Nothing);

        Assert.Equal(["Sora_20171010.GetStatsReport", "Sora_20211215.GetMode"], router.Targets);
    }
}

public sealed class ApiTargetTests
{
    [Theory]
    [InlineData("Sora_20211215.ListClusterNodes", true)]
    [InlineData("Sora_20171010.GetStatsReport", true)]
    [InlineData("Sora_20990101.X", true)]
    [InlineData("Sora_20990101.X2", true)]
    [InlineData("Sora_20990101.2X", false)]
    [InlineData("Sora_20990101.", false)]
    [InlineData("Sora_2099010.Name", false)]
    [InlineData("Sora_209901011.Name", false)]
    [InlineData("Sora_2099O101.Name", false)]
    [InlineData("Sora-20990101.Name", false)]
    [InlineData("SORA_20990101.Name", false)]
    [InlineData("Sora_20990101.Na.me", false)]
    [InlineData("Sora_20990101.Ｎame", false)]
    [InlineData("Sora_２0990101.Name", false)]
    [InlineData("", false)]
    public void Target_grammar_is_Sora_underscore_eight_digits_dot_name(string target, bool wellFormed) =>
        Assert.Equal(wellFormed, ApiTarget.IsWellFormed(target));
}
