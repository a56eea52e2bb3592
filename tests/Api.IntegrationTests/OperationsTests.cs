using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class OperationsTests(StoreKind store) : ApiFixture(store)
{
    [TestCase("/healthz")]
    [TestCase("/readyz")]
    public async Task HealthEndpointsAnswer200(string path)
    {
        using var response = await Anonymous.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task MetricsAreServedInPrometheusFormat()
    {
        await RegisterAsync(identity: "metered", channel: "fcm");
        using (await PostWebhookAsync(TwilioRequests.Body(to: "client:metered")))
        using (await PostWebhookAsync(TwilioRequests.Body(to: "client:nobody-here")))
        using (var bob = await ConnectAsync("gauge"))
        {
            // Counters are exported as they stand at the scrape; the exporter caches a scrape for a moment, so poll.
            var text = await Eventually.Until(
                () => Anonymous.GetStringAsync("/metrics"),
                t => t.Contains("callnotify_webhook_requests_total", StringComparison.Ordinal)
                    && t.Contains("status=\"404\"", StringComparison.Ordinal)
                    && t.Contains("callnotify_deliveries_total", StringComparison.Ordinal)
                    && t.Contains("callnotify_websocket_sessions", StringComparison.Ordinal)
                    && t.Contains("http_server_request_duration_seconds_bucket", StringComparison.Ordinal)
                    && (StoreKind != StoreKind.Postgres || t.Contains("callnotify_store_recent_recalls_total", StringComparison.Ordinal)));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(text, Does.Contain("callnotify_webhook_requests_total{").And.Contain("status=\"404\""));
                Assert.That(text, Does.Contain("status=\"503\""));
                Assert.That(text, Does.Contain("callnotify_webhook_duration_seconds_bucket"));
                Assert.That(text, Does.Contain("callnotify_deliveries_total{").And.Contain("channel=\"fcm\"").And.Contain("outcome=\"failed\""));
                Assert.That(text, Does.Contain("callnotify_delivery_duration_seconds_bucket"));
                Assert.That(text, Does.Match(@"callnotify_websocket_sessions(\{[^}]*\})? [1-9]"));
                Assert.That(text, Does.Contain("http_server_request_duration_seconds_bucket"), "ASP.NET Core's request metrics");
                Assert.That(text, Does.Match(@"dotnet_gc_heap_total_allocated_bytes_total(\{[^}]*\})? [1-9]"), "the runtime's allocated bytes");
                Assert.That(text, Does.Contain("dotnet_thread_pool_work_item_count_total"), "the runtime's thread-pool work items");
                if (StoreKind == StoreKind.Postgres)
                {
                    Assert.That(text, Does.Contain("callnotify_store_group_commit_size_bucket"));
                    Assert.That(text, Does.Match(@"callnotify_store_recent_recalls_total\{[^}]*result=""(hit|miss)""[^}]*\} [1-9]"), "results and acks recalled");
                    foreach (var lane in new[] { "write", "append" })
                    {
                        Assert.That(text, Does.Match($"callnotify_store_round_trip_duration_seconds_count\\{{[^}}]*lane=\"{lane}\"[^}}]*\\}} [1-9]"), $"{lane} round trips");
                        Assert.That(text, Does.Match($"callnotify_store_wait_duration_seconds_count\\{{[^}}]*lane=\"{lane}\"[^}}]*\\}} [1-9]"), $"{lane} waits");
                    }
                }
            }
        }
    }

    [Test]
    public async Task BindingsSurviveARestart()
    {
        var binding = await RegisterAsync(identity: "carol");

        // A second process on the same database, after the first has gone.
        await using (var restarted = new CallNotifyApp(Store))
        {
            using var admin = restarted.CreateAdminClient();
            var reread = await admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");

            Assert.That(reread.GetProperty("identity").GetString(), Is.EqualTo("carol"));
        }
    }
}
