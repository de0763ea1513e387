using System.Globalization;
using Hibari.Config;

namespace Hibari.Tests.Config;

/// <summary>
/// Property tests of the sora.conf value parsers (docs/decisions.md D-48): generated durations in every form Sora
/// writes parse to the milliseconds they mean, and random or mutated text never throws and is either a value in range
/// or a one-line problem. Seeded; 5,000 inputs per property by default, HIBARI_FUZZ_ITERATIONS for a long run.
/// </summary>
public class SoraValueFuzzTests
{
    private static readonly int Iterations =
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static readonly (string Unit, long Ms)[] Units = [("ms", 1), ("s", 1_000), ("min", 60_000), ("h", 3_600_000)];

    private const string Alphabet = " \t_0123456789-+.,smhinMSHIN#\"=\u00a0\u3000\u0660\uff11";

    [Fact, Trait("Category", "Fuzz")]
    public void Sora_durations_parse_to_the_milliseconds_they_mean()
    {
        var rng = new Random(48);
        var parse = ConfigValues.Milliseconds(0, int.MaxValue);
        var soraOnly = ConfigValues.SoraMilliseconds(100, 60_000);
        for (var i = 0; i < Iterations; i++)
        {
            var (unit, factor) = Units[rng.Next(Units.Length)];
            var number = rng.Next(4) == 0 ? rng.NextInt64(0, 1_000_000_000_000) : rng.Next(0, 100_000);
            var text = Grouped(rng, number) + new string(' ', rng.Next(1, 4)) + unit;
            var ms = number * factor;

            Assert.Equal(ms, ConfigValues.SoraDuration(text));
            var parsed = parse(text);
            if (ms <= int.MaxValue)
                Assert.Equal(Parsed<int>.Ok((int)ms), parsed);
            else
                Assert.NotNull(parsed.Problem);
            Assert.Equal(ms is >= 100 and <= 60_000, soraOnly(text).Problem is null);

            // The same number glued to its unit, or with the unit in capitals, is not Sora's syntax.
            Assert.Null(ConfigValues.SoraDuration(number.ToString(CultureInfo.InvariantCulture) + unit));
            Assert.Null(ConfigValues.SoraDuration(number.ToString(CultureInfo.InvariantCulture) + " " + unit.ToUpperInvariant()));
        }
    }

    [Fact, Trait("Category", "Fuzz")]
    public void A_plain_integer_stays_milliseconds()
    {
        var rng = new Random(49);
        var parse = ConfigValues.Milliseconds(100, 60_000);
        for (var i = 0; i < Iterations; i++)
        {
            var v = rng.Next(-1_000, 100_000);
            var parsed = parse(v.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(v is >= 100 and <= 60_000, parsed.Problem is null);
            if (parsed.Problem is null)
                Assert.Equal(v, parsed.Value);
        }
    }

    [Fact, Trait("Category", "Fuzz")]
    public void Random_and_mutated_values_never_throw_and_are_in_range_or_a_one_line_problem()
    {
        var rng = new Random(50);
        var parsers = new[]
        {
            ConfigValues.Milliseconds(100, 60_000), ConfigValues.Milliseconds(0, 3_600_000), ConfigValues.SoraMilliseconds(100, 60_000),
            ConfigValues.Bytes(1024, 256 * 1024 * 1024),
        };
        string[] seeds = ["30 s", "500 ms", "5 min", "1 h", "1_000 ms", "2000", "1024", "true", "10 MiB"];
        for (var i = 0; i < Iterations; i++)
        {
            var text = rng.Next(2) == 0 ? Random(rng, rng.Next(0, 16)) : Mutate(rng, seeds[rng.Next(seeds.Length)]);
            _ = ConfigValues.SoraDuration(text);
            foreach (var parse in parsers)
            {
                var parsed = parse(text);
                if (parsed.Problem is { } problem)
                    Assert.True(problem.StartsWith("expected ", StringComparison.Ordinal) && !problem.Any(ConfigErrors.IsLineBreakOrControl), problem);
                else
                    Assert.InRange(parsed.Value, 0, 256 * 1024 * 1024);
            }
            var boolean = ConfigValues.Boolean(text);
            Assert.Equal(text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase),
                boolean.Problem is null);
        }
    }

    /// <summary>The number as Sora may write it: plain, or with '_' between some digits.</summary>
    private static string Grouped(Random rng, long number)
    {
        var digits = number.ToString(CultureInfo.InvariantCulture);
        if (rng.Next(2) == 0)
            return digits;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < digits.Length; i++)
        {
            if (i > 0 && rng.Next(3) == 0)
                sb.Append('_');
            sb.Append(digits[i]);
        }
        return sb.ToString();
    }

    private static string Random(Random rng, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = Alphabet[rng.Next(Alphabet.Length)];
        return new string(chars);
    }

    private static string Mutate(Random rng, string text)
    {
        for (var edits = rng.Next(1, 4); edits > 0; edits--)
        {
            var at = rng.Next(text.Length + 1);
            var c = Alphabet[rng.Next(Alphabet.Length)].ToString();
            text = rng.Next(3) switch
            {
                0 => text.Insert(at, c),
                1 when at < text.Length => text.Remove(at, 1),
                _ when at < text.Length => text.Remove(at, 1).Insert(at, c),
                _ => text + c,
            };
        }
        return text;
    }
}
