using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.Hosting;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Application.Common.Ports;
using CallNotify.Infrastructure.Configuration;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.IntegrationTests;

/// <summary>The start-up run of the webhook's 404 path (<see cref="WebhookWarmUp"/>).</summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class WarmUpTests(StoreKind store) : ApiFixture(store)
{
    [TestCase(null)]
    [TestCase("https://callnotify.example.com/calls/notificationWebhook?region=eu")]
    public async Task TheWarmUpPassesTheSignatureCheckAndTheLookupAndRecordsNothing(string? webhookUrl)
    {
        WebhookResult result;
        await using (var scope = App.Services.CreateAsyncScope())
        {
            result = await scope.ServiceProvider.GetRequiredService<ISender>()
                .Send(WebhookWarmUp.Command(App.Services.GetRequiredService<IWebhookSignatureVerifier>(), CallNotifyApp.AccountSid, webhookUrl));
        }

        // Forbidden would mean a bad signature, Invalid a bad body: only the 404 path reaches the lookups.
        Assert.That(result.Verdict, Is.EqualTo(WebhookVerdict.NoActiveClients));
        var recorded = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications?accountSid={CallNotifyApp.AccountSid}");
        Assert.That(recorded.GetProperty("notifications").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task TheWarmUpIsNotCountedAsAWebhookRequest()
    {
        await using var fresh = new CallNotifyApp(Store);
        using var client = fresh.CreateClient();

        using (await client.GetAsync("/healthz"))
        {
        }

        // Once the health request shows in the scrape, a webhook request made before it would show too.
        var text = await Eventually.Until(
            () => client.GetStringAsync("/metrics"),
            t => t.Contains("http_server_request_duration_seconds_bucket", StringComparison.Ordinal));

        Assert.That(text, Does.Not.Contain("callnotify_webhook_requests_total"));
    }

    [Test]
    public async Task AWarmUpThatFailsDoesNotStopTheStart()
    {
        var signatures = new CallNotify.Infrastructure.Twilio.TwilioSignatureVerifier(Options.Create(new TwilioOptions
        {
            Accounts = [new TwilioAccountOptions { AccountSid = CallNotifyApp.AccountSid, AuthToken = CallNotifyApp.AuthToken }],
        }));
        var warmUp = new WebhookWarmUp(new BrokenScopes(), signatures, Options.Create(new CallNotify.Api.Http.WebhookUrlOptions()), NullLogger<WebhookWarmUp>.Instance);

        await warmUp.StartAsync(CancellationToken.None);

        Assert.Pass("StartAsync completed although the warm-up could not run.");
    }

    private sealed class BrokenScopes : IServiceScopeFactory
    {
        public IServiceScope CreateScope() => throw new InvalidOperationException("The store is not there.");
    }
}
