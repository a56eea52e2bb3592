using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Common;

public class IdsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void NewIdIsPrefixAndThirtyTwoLowerCaseHexDigits()
    {
        var id = Ids.New(Ids.BindingPrefix, Start);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id, Does.Match("^BD[0-9a-f]{32}$"));
            Assert.That(Ids.IsValid(Ids.BindingPrefix, id), Is.True);
            Assert.That(Ids.IsValid(Ids.NotificationPrefix, id), Is.False);
        }
    }

    [Test]
    public void OrdinalOrderOfIdsIsCreationTimeOrder()
    {
        // Created out of time order, each a millisecond apart: sorting the ids must give back time order.
        var times = Enumerable.Range(0, 200).Select(i => Start.AddMilliseconds(i)).ToList();
        var created = Enumerable.Range(0, 200)
            .OrderBy(i => (i * 7919) % 1009)
            .Select(i => (Time: times[i], Id: Ids.New(Ids.NotificationPrefix, times[i])))
            .ToList();

        var byId = created.OrderBy(x => x.Id, StringComparer.Ordinal).Select(x => x.Time).ToList();

        Assert.That(byId, Is.EqualTo(times));
    }

    [Test]
    public void IdsTakenAtTheSameTimeAreDistinct()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.New(Ids.DeliveryPrefix, Start)).ToList();

        Assert.That(ids, Is.Unique);
    }

    [Test]
    public void NumberedIdsKeepTheParentsTimeAndAreDistinctPerNumberAndPerParent()
    {
        var first = Ids.New(Ids.NotificationPrefix, Start);
        var second = Ids.New(Ids.NotificationPrefix, Start);
        List<string> numbered = [.. Enumerable.Range(0, Ids.MaxNumbered).Select(i => Ids.Numbered(Ids.DeliveryPrefix, first, i))];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(numbered[0], Is.EqualTo("DL" + first[2..31] + "000"));
            Assert.That(numbered[^1], Is.EqualTo("DL" + first[2..31] + "fff"));
            Assert.That(numbered, Is.All.Matches<string>(id => Ids.IsValid(Ids.DeliveryPrefix, id)));
            Assert.That(numbered, Is.Unique);
            Assert.That(numbered, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal), "number order is id order");
            Assert.That(Ids.Numbered(Ids.DeliveryPrefix, second, 0), Is.Not.EqualTo(numbered[0]), "another parent, other ids");
            Assert.That(numbered[0][2..14], Is.EqualTo(first[2..14]), "the parent's millisecond stays in front");
            Assert.That(() => Ids.Numbered(Ids.DeliveryPrefix, first, Ids.MaxNumbered), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => Ids.Numbered(Ids.DeliveryPrefix, first, -1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => Ids.Numbered(Ids.DeliveryPrefix, "NO12", 0), Throws.ArgumentException);
        }
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("BD")]
    [TestCase("BD0123456789abcdef0123456789abcde")]
    [TestCase("BD0123456789abcdef0123456789abcdef0")]
    [TestCase("BD0123456789ABCDEF0123456789ABCDEF")]
    [TestCase("BD0123456789abcdef0123456789abcdeg")]
    [TestCase("bd0123456789abcdef0123456789abcdef")]
    [TestCase("NO0123456789abcdef0123456789abcdef")]
    public void RejectsMalformedBindingId(string? value)
    {
        Assert.That(Ids.IsValid(Ids.BindingPrefix, value), Is.False);
    }
}
