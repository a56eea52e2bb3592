using CallNotify.Application.Bindings.ListBindings;
using CallNotify.Application.Common.Paging;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Tests.Bindings.ListBindings;

public class ListBindingsValidatorTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private readonly ListBindingsValidator _validator = new();

    private static ListBindingsQuery NoFilters() => new(null, null, null, null, null, null);

    private IEnumerable<string> InvalidProperties(ListBindingsQuery query) =>
        _validator.Validate(query).Errors.Select(e => e.PropertyName).Distinct();

    private static IEnumerable<TestCaseData> ValidQueries()
    {
        yield return new TestCaseData(NoFilters()).SetArgDisplayNames("no filters");
        yield return new TestCaseData(new ListBindingsQuery(TestData.AccountSidValue, "bob", "apns-voip", "inactive", 200, PageToken.Encode(Ids.New(Ids.BindingPrefix, At))))
            .SetArgDisplayNames("every filter");
        yield return new TestCaseData(NoFilters() with { PageSize = 1 }).SetArgDisplayNames("page size 1");
        yield return new TestCaseData(NoFilters() with { PageToken = "" }).SetArgDisplayNames("empty page token");
        yield return new TestCaseData(NoFilters() with { Status = "active", Channel = "fcm" }).SetArgDisplayNames("active fcm");
    }

    [TestCaseSource(nameof(ValidQueries))]
    public void AcceptsAValidQuery(ListBindingsQuery query)
    {
        Assert.That(InvalidProperties(query), Is.Empty);
    }

    private static IEnumerable<TestCaseData> InvalidQueries()
    {
        yield return new TestCaseData(NoFilters() with { PageSize = 0 }, "PageSize").SetArgDisplayNames("page size 0");
        yield return new TestCaseData(NoFilters() with { PageSize = 201 }, "PageSize").SetArgDisplayNames("page size 201");
        yield return new TestCaseData(NoFilters() with { PageSize = -1 }, "PageSize").SetArgDisplayNames("negative page size");
        yield return new TestCaseData(NoFilters() with { PageToken = "garbage!" }, "PageToken").SetArgDisplayNames("garbage token");
        yield return new TestCaseData(NoFilters() with { PageToken = PageToken.Encode("hello") }, "PageToken").SetArgDisplayNames("token of a non-id");
        yield return new TestCaseData(NoFilters() with { PageToken = PageToken.Encode(Ids.New(Ids.NotificationPrefix, At)) }, "PageToken").SetArgDisplayNames("notification token");
        yield return new TestCaseData(NoFilters() with { Channel = "websocket" }, "Channel").SetArgDisplayNames("websocket channel");
        yield return new TestCaseData(NoFilters() with { Channel = "FCM" }, "Channel").SetArgDisplayNames("upper-case channel");
        yield return new TestCaseData(NoFilters() with { Status = "deleted" }, "Status").SetArgDisplayNames("unknown status");
        yield return new TestCaseData(NoFilters() with { AccountSid = "AC1" }, "AccountSid").SetArgDisplayNames("short account");
        yield return new TestCaseData(NoFilters() with { Identity = new string('b', 257) }, "Identity").SetArgDisplayNames("257-char identity");
    }

    [TestCaseSource(nameof(InvalidQueries))]
    public void RefusesAnInvalidParameterAndNamesOnlyIt(ListBindingsQuery query, string property)
    {
        Assert.That(InvalidProperties(query), Is.EqualTo(new[] { property }));
    }
}
