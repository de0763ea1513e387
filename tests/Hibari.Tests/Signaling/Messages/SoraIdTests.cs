using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

public sealed class SoraIdTests
{
    [Theory]
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9M")]
    [InlineData("SCVC9JRZZ900F0KC32T3GY6FBR")]
    [InlineData("E35JE7KG694H3F5NZ304AG3R74")]
    public void Ids_from_the_sora_docs_are_valid_and_decode_to_uuid_v4(string id)
    {
        Assert.True(SoraId.IsValid(id));
        Span<byte> bytes = stackalloc byte[16];
        Assert.True(SoraId.TryDecode(id, bytes));
        Assert.Equal(4, bytes[6] >> 4);          // version nibble
        Assert.Equal(0b10, bytes[8] >> 6);       // RFC 4122 variant
        Assert.Equal(id, SoraId.Encode(bytes));  // round trip
    }

    [Fact]
    public void New_ids_are_26_crockford_characters_decoding_to_uuid_v4()
    {
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 1000; i++)
        {
            var id = SoraId.New();
            Assert.Equal(26, id.Length);
            Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", id);
            Assert.True(SoraId.IsValid(id));
            Assert.True(SoraId.TryDecode(id, bytes));
            Assert.Equal(4, bytes[6] >> 4);
            Assert.Equal(0b10, bytes[8] >> 6);
        }
    }

    [Fact]
    public void Hundred_thousand_new_ids_are_distinct()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 100_000; i++) Assert.True(seen.Add(SoraId.New()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9")]    // 25
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9MM")]  // 27
    [InlineData("wcjc78ewk935n7p7z8fyakfw9m")]   // lower case
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9U")]   // U is not in the alphabet
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9I")]   // I neither
    [InlineData("WCJC78EWK935N7P7Z8FYAKFW9N")]   // N = 21: padding bits not zero
    public void Malformed_ids_are_invalid(string? id)
    {
        Assert.False(SoraId.IsValid(id));
    }
}
