namespace Hibari.Config;

/// <summary>One key of hibari.conf: its name, its value syntax and the option it sets, bound together once.</summary>
internal sealed class ConfigKey
{
    private readonly Func<HibariOptions, string, Parsed<HibariOptions>> apply;

    private ConfigKey(string name, bool isSecret, Func<HibariOptions, string, Parsed<HibariOptions>> apply)
    {
        Name = name;
        IsSecret = isSecret;
        this.apply = apply;
    }

    public string Name { get; }

    /// <summary>A secret's value never appears in an error message (errors go to logs).</summary>
    public bool IsSecret { get; }

    public static ConfigKey Of<T>(string name, Func<string, Parsed<T>> parse, Func<HibariOptions, T, HibariOptions> set, bool secret = false) =>
        new(name, secret, (options, text) =>
        {
            var parsed = parse(text);
            return parsed.Problem is null
                ? Parsed<HibariOptions>.Ok(set(options, parsed.Value))
                : Parsed<HibariOptions>.Fail(parsed.Problem);
        });

    /// <summary>The options with this key set to <paramref name="text"/>, or what the key allows.</summary>
    public Parsed<HibariOptions> Apply(HibariOptions options, string text) => apply(options, text);
}
