namespace Hibari.Config;

/// <summary>A parsed value, or the problem with the text (what is allowed), so that parsers never throw.</summary>
internal readonly record struct Parsed<T>(T Value, string? Problem)
{
    public static Parsed<T> Ok(T value) => new(value, null);

    public static Parsed<T> Fail(string problem) => new(default!, problem);
}
