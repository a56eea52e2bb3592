using CallNotify.Api.IntegrationTests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;

namespace CallNotify.Api.IntegrationTests;

/// <summary>Bad configuration stops the service at start-up with a message naming the key.</summary>
public sealed class StartupConfigurationTests
{
    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Sqlite);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [TestCase("Twilio:Accounts:0:AccountSid", "AC123", "Twilio:Accounts:0:AccountSid")]
    [TestCase("Twilio:Accounts:0:AuthToken", "", "Twilio:Accounts:0:AuthToken")]
    [TestCase("WebSocket:TokenSigningKey", "c2hvcnQ=", "WebSocket:TokenSigningKey")]
    [TestCase("WebSocket:TokenSigningKey", "not base64!", "WebSocket:TokenSigningKey")]
    [TestCase("Admin:ApiKeys:0", "sha256:xyz", "Admin:ApiKeys:0")]
    [TestCase("Dispatch:InviteTtlSeconds", "0", "Dispatch:InviteTtlSeconds")]
    [TestCase("Storage:WebhookBudgetMilliseconds", "20000", "Storage:WebhookBudgetMilliseconds")]
    [TestCase("Twilio:ValidateSignatures", "false", "Twilio:ValidateSignatures")]
    [TestCase("WebSocket:MaxSessionsPerIdentity", "0", "WebSocket:MaxSessionsPerIdentity")]
    [TestCase("WebSocket:MaxFramesPerMinute", "0", "WebSocket:MaxFramesPerMinute")]
    [TestCase("WebSocket:MaxFrameBytes", "100", "WebSocket:MaxFrameBytes")]
    [TestCase("Retention:MessageIdDays", "3", "Retention:MessageIdDays")]
    [TestCase("Twilio:Accounts:0:ApiKeys:0:Sid", "SK123", "Twilio:Accounts:0:ApiKeys:0:Sid")]
    [TestCase("Twilio:Accounts:0:ApiKeys:0:Secret", "", "Twilio:Accounts:0:ApiKeys:0")]
    [TestCase("RateLimits:ClientPermitsPerMinute", "0", "RateLimits:ClientPermitsPerMinute")]
    public void RefusesToStartWithABadValue(string key, string value, string named)
    {
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { [key] = value });

        var error = Assert.Catch(() => app.StartServer());

        Assert.That(Messages(error), Does.Contain(named));
    }

    [TestCase("Twilio:Accounts:0:AuthToken", "dev-auth-token-do-not-use-in-production")]
    [TestCase("Twilio:Accounts:0:AccountSid", "AC0123456789abcdef0123456789abcdef")]
    [TestCase("Admin:ApiKeys:0", "dev-admin-key-do-not-use-in-production")]
    [TestCase("WebSocket:TokenSigningKey", "Y2FsbG5vdGlmeS1kZXZlbG9wbWVudC13ZWJzb2NrZXQtc2lnbmluZy1rZXkh")]
    [TestCase("Twilio:Accounts:0:ApiKeys:0:Secret", "dev-api-key-secret-do-not-use-in-production")]
    public void RefusesDevelopmentCredentialsOutsideDevelopment(string key, string value)
    {
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { [key] = value }, environment: "Production");

        var error = Assert.Catch(() => app.StartServer());

        Assert.That(Messages(error), Does.Contain(key).And.Contain("Development"));
    }

    /// <summary>A newcomer's first start (a new store, every migration applied) prints no warning.</summary>
    [TestCase(StoreKind.Sqlite)]
    [TestCase(StoreKind.Postgres)]
    public async Task AFirstStartOnANewStoreWarnsOfNothing(StoreKind kind)
    {
        await using var store = await TestStore.CreateAsync(kind);
        var logs = new CapturingLoggerProvider();
        using var app = new CallNotifyApp(store, services: services => services.AddLogging(b => b.AddProvider(logs)));

        app.StartServer();

        Assert.That(logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal)), Is.Empty);
    }

    /// <summary>Issue #15: each push sent through HttpClient logged four Information lines in Production.</summary>
    [Test]
    public void HttpClientsLogOnlyWarningsByDefault()
    {
        // The test host turns the default down to Warning; appsettings.json's is Information.
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" }, environment: "Production");
        app.StartServer();
        var loggers = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(loggers.CreateLogger("System.Net.Http.HttpClient.fcm.LogicalHandler").IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information), Is.False);
            Assert.That(loggers.CreateLogger("System.Net.Http.HttpClient.apns.ClientHandler").IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information), Is.False);
            Assert.That(loggers.CreateLogger("System.Net.Http.HttpClient.fcm.LogicalHandler").IsEnabled(Microsoft.Extensions.Logging.LogLevel.Warning), Is.True);
        }
    }

    [Test]
    public void AcceptsDevelopmentCredentialsInDevelopment()
    {
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { ["Admin:ApiKeys:0"] = "dev-admin-key-do-not-use-in-production" }, environment: "Development");

        Assert.DoesNotThrow(() => app.StartServer());
    }

    [Test]
    public void AcceptsAHashedAdminKey()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("a-key-kept-out-of-config-0001"u8));
        using var app = new CallNotifyApp(_store, new Dictionary<string, string?> { ["Admin:ApiKeys:0"] = "sha256:" + hash });
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "a-key-kept-out-of-config-0001");

        var response = client.GetAsync("/admin/v1/bindings").GetAwaiter().GetResult();

        Assert.That((int)response.StatusCode, Is.EqualTo(200));
    }

    private static string Messages(Exception error)
    {
        var messages = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                messages.AddRange(validation.Failures);
            }
        }

        return string.Join(" | ", messages);
    }
}
