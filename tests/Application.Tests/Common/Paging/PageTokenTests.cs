using CallNotify.Application.Common.Paging;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Tests.Common.Paging;

public class PageTokenTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [TestCase(Ids.BindingPrefix)]
    [TestCase(Ids.NotificationPrefix)]
    public void DecodesTheIdItEncoded(string prefix)
    {
        var id = Ids.New(prefix, At);
        var token = PageToken.Encode(id);

        var decoded = PageToken.TryDecode(token, prefix, out var lastId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(decoded, Is.True);
            Assert.That(lastId, Is.EqualTo(id));
            Assert.That(token, Does.Not.Contain(id), "the token is opaque");
            Assert.That(token, Does.Match("^[A-Za-z0-9_-]+$"), "the token is URL-safe");
        }
    }

    [TestCase(null)]
    [TestCase("")]
    public void NoTokenMeansTheFirstPage(string? token)
    {
        var decoded = PageToken.TryDecode(token, Ids.BindingPrefix, out var lastId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(decoded, Is.True);
            Assert.That(lastId, Is.Null);
        }
    }

    [Test]
    public void RefusesATokenForAnotherKindOfId()
    {
        var token = PageToken.Encode(Ids.New(Ids.NotificationPrefix, At));

        var decoded = PageToken.TryDecode(token, Ids.BindingPrefix, out var lastId);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(decoded, Is.False);
            Assert.That(lastId, Is.Null);
        }
    }

    [TestCase("not base64 at all!")]
    [TestCase("====")]
    [TestCase("QkQ")]
    public void RefusesGarbage(string token)
    {
        Assert.That(PageToken.TryDecode(token, Ids.BindingPrefix, out _), Is.False);
    }

    [Test]
    public void RefusesAnEncodedIdWithUpperCaseHex()
    {
        var token = PageToken.Encode("BD" + Guid.CreateVersion7(At).ToString("N").ToUpperInvariant());

        Assert.That(PageToken.TryDecode(token, Ids.BindingPrefix, out _), Is.False);
    }

    [Test]
    public void RefusesAnOverLongToken()
    {
        var token = PageToken.Encode(Ids.New(Ids.BindingPrefix, At) + new string('0', 100));

        Assert.That(PageToken.TryDecode(token, Ids.BindingPrefix, out _), Is.False);
    }
}
