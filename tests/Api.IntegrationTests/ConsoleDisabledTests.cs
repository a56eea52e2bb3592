using System.Net;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary><c>Console:Enabled=false</c> serves no console.</summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class ConsoleDisabledTests(StoreKind store) : ApiFixture(store)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Console:Enabled"] = "false" };

    [Test]
    public async Task TheConsoleIsNotServed()
    {
        using var page = await Anonymous.GetAsync("/console");

        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }
}
