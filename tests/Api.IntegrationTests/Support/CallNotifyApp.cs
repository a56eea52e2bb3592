using System.Net.Http.Headers;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>The real Api on Kestrel (loopback, a free port), on a test store, with test credentials.</summary>
public sealed class CallNotifyApp : WebApplicationFactory<Program>
{
    public const string AccountSid = "AC11111111111111111111111111111111";
    public const string AuthToken = "test-auth-token-account-one";
    public const string OtherAccountSid = "AC22222222222222222222222222222222";
    public const string OtherAuthToken = "test-auth-token-account-two";
    public const string UnconfiguredAccountSid = "AC33333333333333333333333333333333";
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    public const string SigningKey = "dGVzdC13ZWJzb2NrZXQtc2lnbmluZy1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";

    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _services;

    public CallNotifyApp(
        TestStore store,
        IDictionary<string, string?>? overrides = null,
        string environment = "Testing",
        Action<IServiceCollection>? services = null)
    {
        _environment = environment;
        _services = services;
        _settings = TestSettings(store);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    /// <summary>The settings every test instance runs with (test credentials, the given store, loopback).</summary>
    public static Dictionary<string, string?> TestSettings(TestStore store) => new()
    {
        ["urls"] = "http://127.0.0.1:0",
        ["Storage:Provider"] = store.Kind.ToString(),
        ["ConnectionStrings:CallNotify"] = store.ConnectionString,
        ["Twilio:Accounts:0:AccountSid"] = AccountSid,
        ["Twilio:Accounts:0:AuthToken"] = AuthToken,
        ["Twilio:Accounts:1:AccountSid"] = OtherAccountSid,
        ["Twilio:Accounts:1:AuthToken"] = OtherAuthToken,
        ["Admin:ApiKeys:0"] = AdminKey,
        ["WebSocket:TokenSigningKey"] = SigningKey,
        ["Dispatch:ResponseDeadlineMilliseconds"] = "1000",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>The server's real address (http://127.0.0.1:port).</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address);
        }
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>The message ids among <paramref name="messageIds"/> that the admin API finds no record of.</summary>
    public async Task<List<string>> MissingFromRecordAsync(IEnumerable<string> messageIds, string accountSid = AccountSid)
    {
        using var admin = CreateAdminClient();
        var missing = new List<string>();
        foreach (var messageId in messageIds)
        {
            using var response = await admin.GetAsync($"/admin/v1/notifications/{messageId}?accountSid={accountSid}");
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                missing.Add(messageId);
            }
        }

        return missing;
    }

    /// <summary>Waits (bounded) until this instance counts at least <paramref name="count"/> live sessions of (account, identity).</summary>
    public async Task WaitForSessionsAsync(string accountSid, string identity, int count)
    {
        var registry = Services.GetRequiredService<ILiveSessionRegistry>();
        var account = Domain.Common.AccountSid.Parse(accountSid);
        var client = ClientIdentity.Parse(identity);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await registry.FindAsync(account, client, CancellationToken.None)).Count < count)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "The session was never registered.");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Empties every table, children first. Presence rows stay (they belong to the running instances), but first the
    /// sessions of the previous test are let go: a client socket disposed a moment ago may still be leaving the store,
    /// and on PostgreSQL its row would count in the next test.
    /// </summary>
    public async Task ResetStoreAsync()
    {
        var sessions = Services.GetRequiredService<WebSocketSessionRegistry>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sessions.Count > 0)
        {
            // Not silently on: a session still open here would count in the next test.
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline),
                $"WebSocket session(s) of the previous test never closed: {string.Join(", ", sessions.All.Select(x => x.Identity))}.");
            await Task.Delay(10);
        }

        var contexts = Services.GetRequiredService<IDbContextFactory<CallNotifyDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        await db.Deliveries.ExecuteDeleteAsync();
        await db.Notifications.ExecuteDeleteAsync();
        await db.Bindings.ExecuteDeleteAsync();
        await db.Set<Infrastructure.Persistence.Presence.SignOutRecord>().ExecuteDeleteAsync();
        await db.Set<Infrastructure.Persistence.Presence.MessageIdRecord>().ExecuteDeleteAsync();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }
}
