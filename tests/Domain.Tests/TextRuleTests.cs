using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests;

/// <summary>The one control-character rule (ADR 0011) is exactly Unicode's: every UTF-16 unit, checked.</summary>
public sealed class TextRuleTests
{
    [Test]
    public void AControlCharacterIsExactlyWhatUnicodeCallsOne()
    {
        var disagreements = Enumerable.Range(0, char.MaxValue + 1)
            .Select(code => (char)code)
            .Where(c => Text.HasControlCharacter("a" + c + "b") != char.IsControl(c))
            .Select(c => ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

        Assert.That(disagreements, Is.Empty);
    }

    [TestCase(null, false)]
    [TestCase("", false)]
    [TestCase("bob", true)]
    [TestCase("bo\tb", false)]
    [TestCase("bo\u0085b", false)]
    [TestCase("élodie 中", true)]
    public void StorableTextIsNonEmptyShortEnoughAndFreeOfControlCharacters(string? value, bool storable) =>
        Assert.That(Text.IsStorable(value, 16), Is.EqualTo(storable));

    [Test]
    public void StorableTextHasALengthLimit() => Assert.That(Text.IsStorable(new string('a', 17), 16), Is.False);
}
