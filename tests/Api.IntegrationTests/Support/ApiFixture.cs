using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>
/// One running Api and its own database per fixture, on the store the fixture is parameterised with; every test
/// starts from empty tables.
/// </summary>
public abstract class ApiFixture(StoreKind storeKind)
{
    protected static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private TestStore? _store;
    private CallNotifyApp? _app;

    protected StoreKind StoreKind { get; } = storeKind;

    protected TestStore Store => _store ?? throw new InvalidOperationException("The fixture is not set up.");

    protected CallNotifyApp App => _app ?? throw new InvalidOperationException("The fixture is not set up.");

    protected HttpClient Admin { get; private set; } = null!;

    protected HttpClient Anonymous { get; private set; } = null!;

    protected virtual IDictionary<string, string?>? Settings => null;

    /// <summary>Test-only service changes (e.g. trusting a fake provider's certificate).</summary>
    protected virtual Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services => null;

    /// <summary>Runs before the app starts (e.g. to start fake providers the settings point at).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    [OneTimeSetUp]
    public async Task StartAppAsync()
    {
        await BeforeStartAsync();
        _store = await TestStore.CreateAsync(StoreKind);
        _app = new CallNotifyApp(_store, Settings, services: Services);
        Admin = _app.CreateAdminClient();
        Anonymous = _app.CreateClient();
    }

    [SetUp]
    public Task ResetAsync() => App.ResetStoreAsync();

    /// <summary>Runs after the app stopped.</summary>
    protected virtual ValueTask AfterStopAsync() => ValueTask.CompletedTask;

    [OneTimeTearDown]
    public async Task StopAppAsync()
    {
        Admin?.Dispose();
        Anonymous?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await AfterStopAsync();
    }

    protected async Task<JsonElement> RegisterAsync(
        string identity = "bob",
        string channel = "fcm",
        string? address = null,
        string accountSid = CallNotifyApp.AccountSid)
    {
        var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid,
            identity,
            channel,
            address = address ?? (channel == "fcm" ? "fcm-token-" + Guid.NewGuid().ToString("N") : Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")),
        });
        Assert.That((int)response.StatusCode, Is.EqualTo(201).Or.EqualTo(200), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    protected async Task<string> IssueTokenAsync(string identity = "bob", string accountSid = CallNotifyApp.AccountSid, int? ttlSeconds = null)
    {
        var response = await Admin.PostAsJsonAsync("/admin/v1/websocket-tokens", new { accountSid, identity, ttlSeconds });
        Assert.That((int)response.StatusCode, Is.EqualTo(200), await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>A real <see cref="ClientWebSocket"/> connected as (account, identity); waits until the server counts it.</summary>
    protected Task<ClientWebSocket> ConnectAsync(string identity = "bob", string accountSid = CallNotifyApp.AccountSid) =>
        WebSocketClients.ConnectAsync(App, identity, accountSid);

    /// <summary>The next text frame, or null when none arrives within <paramref name="wait"/>.</summary>
    protected static Task<byte[]?> ReceiveFrameAsync(ClientWebSocket socket, TimeSpan wait) =>
        WebSocketClients.ReceiveFrameAsync(socket, wait);

    protected async Task<HttpResponseMessage> PostWebhookAsync(string body, string authToken = CallNotifyApp.AuthToken)
    {
        using var request = TwilioRequests.SignedRequest(App.BaseAddress, body, authToken);
        return await Anonymous.SendAsync(request);
    }

    protected async Task<JsonElement> GetNotificationAsync(string messageId, string accountSid = CallNotifyApp.AccountSid)
    {
        var response = await Admin.GetAsync($"/admin/v1/notifications/{messageId}?accountSid={accountSid}");
        Assert.That((int)response.StatusCode, Is.EqualTo(200), await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
