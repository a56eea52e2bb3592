using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using Npgsql;

namespace CallNotify.Api.IntegrationTests;

/// <summary>SPEC §8, last row: with the store down the service answers 503 and recovers by itself when it is back.</summary>
[TestFixture(StoreKind.Postgres)]
public sealed class StoreOutageTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task Answers503WhileTheDatabaseRefusesConnectionsAndRecoversAfterwards()
    {
        var binding = await RegisterAsync(identity: "dave");
        var database = new NpgsqlConnectionStringBuilder(Store.ConnectionString).Database!;

        await SetConnectionsAllowedAsync(database, allowed: false);
        try
        {
            using var webhook = await PostWebhookAsync(TwilioRequests.Body(to: "client:dave"));
            using var admin = await Admin.GetAsync("/admin/v1/bindings");
            using var ready = await Anonymous.GetAsync("/readyz");
            using var healthy = await Anonymous.GetAsync("/healthz");

            using (Assert.EnterMultipleScope())
            {
                Assert.That(webhook.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(webhook.Headers.RetryAfter, Is.Not.Null);
                Assert.That(webhook.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
                Assert.That(admin.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(healthy.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }
        }
        finally
        {
            await SetConnectionsAllowedAsync(database, allowed: true);
        }

        var reread = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
        using var readyAgain = await Anonymous.GetAsync("/readyz");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reread.GetProperty("identity").GetString(), Is.EqualTo("dave"));
            Assert.That(readyAgain.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    [Test]
    public async Task TwoInstancesBothAnswer503DuringTheOutageAndBothRecover()
    {
        await using var second = new CallNotifyApp(Store);
        using var secondAdmin = second.CreateAdminClient();
        var binding = await RegisterAsync(identity: "erin");
        var database = new NpgsqlConnectionStringBuilder(Store.ConnectionString).Database!;
        using (var warm = await secondAdmin.GetAsync("/admin/v1/bindings"))
        {
            Assert.That(warm.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        await SetConnectionsAllowedAsync(database, allowed: false);
        try
        {
            using var first = await Admin.GetAsync("/admin/v1/bindings");
            using var other = await secondAdmin.GetAsync("/admin/v1/bindings");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            }
        }
        finally
        {
            await SetConnectionsAllowedAsync(database, allowed: true);
        }

        // Written through one instance before the outage, read through the other after it.
        var reread = await Eventually.Until(
            async () =>
            {
                using var response = await secondAdmin.GetAsync($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}");
                return response.StatusCode;
            },
            status => status == HttpStatusCode.OK);
        Assert.That(reread, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>Closes the database to new connections and ends the existing ones (pooled ones included), or reopens it.</summary>
    private static async Task SetConnectionsAllowedAsync(string database, bool allowed)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.ConnectionString);
        await connection.OpenAsync();
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", connection))
        {
            await alter.ExecuteNonQueryAsync();
        }

        if (!allowed)
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @db AND pid <> pg_backend_pid()", connection);
            terminate.Parameters.AddWithValue("db", database);
            await terminate.ExecuteNonQueryAsync();
        }
    }
}
