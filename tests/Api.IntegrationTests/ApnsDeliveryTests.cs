using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Tests.Channels.Apns.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace CallNotify.Api.IntegrationTests;

/// <summary>The whole path with APNs configured: webhook → store → APNs over HTTP/2 TLS (a fake on loopback) → outcome.</summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class ApnsDeliveryTests(StoreKind store) : ApiFixture(store)
{
#pragma warning disable NUnit1032 // Disposed in AfterStopAsync, which the base class's one-time tear-down calls.
    private ApnsTestKeys _keys = null!;
#pragma warning restore NUnit1032
    private FakeApnsServer _apns = null!;
    private readonly ExportedSpans _spans = new();

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        // Spans are recorded only when exported somewhere; nothing listens there, the tests read memory.
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
        ["Apns:TeamId"] = ApnsTestKeys.TeamId,
        ["Apns:KeyId"] = ApnsTestKeys.KeyId,
        ["Apns:PrivateKeyFile"] = _keys.KeyFile,
        ["Apns:BundleId"] = ApnsTestKeys.BundleId,
        ["Apns:ProductionEndpoint"] = _apns.ProductionEndpoint.ToString(),
        ["Apns:SandboxEndpoint"] = _apns.SandboxEndpoint.ToString(),
    };

    // Test-only: the client trusts the fake's self-signed certificate and nothing else.
    protected override Action<IServiceCollection>? Services => services =>
    {
        services.AddHttpClient(ApnsRegistration.HttpClientName).ConfigurePrimaryHttpMessageHandler((handler, _) =>
            ((SocketsHttpHandler)handler).SslOptions.RemoteCertificateValidationCallback =
                (_, certificate, _, _) => _keys.IsTheTestCertificate(certificate));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
    };

    protected override async Task BeforeStartAsync()
    {
        _keys = new ApnsTestKeys();
        _apns = await FakeApnsServer.StartAsync(_keys);
    }

    protected override async ValueTask AfterStopAsync()
    {
        await _apns.DisposeAsync();
        _keys.Dispose();
    }

    [SetUp]
    public void ResetFake()
    {
        _apns.Reset();
        _spans.Clear();
    }

    /// <summary>Issue #15: the APNs URL carries the device token; the HttpClient span of the push keeps its last characters only.</summary>
    [Test]
    public async Task TheSpanOfAPushNamesTheDeviceTokenOnlyByItsEnd()
    {
        const string token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789fedcba";
        using var binding = await Admin.PostAsJsonAsync("/admin/v1/bindings", new { accountSid = CallNotifyApp.AccountSid, identity = "traced", channel = "apns-voip", address = token });
        Assert.That(binding.StatusCode, Is.EqualTo(HttpStatusCode.Created));

        using var response = await PostWebhookAsync(TwilioRequests.Body(to: "client:traced"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var push = await Eventually.Until(
            () => Task.FromResult(_spans.Snapshot().FirstOrDefault(s => s.Source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal)
                && (s.GetTagItem("url.full") as string)?.EndsWith("fedcba", StringComparison.Ordinal) == true)),
            span => span is not null);

        Assert.That(push, Is.Not.Null, "no HttpClient span for the push was exported");
        // (The fake APNs server runs in this process: its own server span, path and all, is not the service's.)
        var values = _spans.Snapshot()
            .Where(s => !(s.Kind == System.Diagnostics.ActivityKind.Server && (s.GetTagItem("url.path") as string)?.StartsWith("/3/device/", StringComparison.Ordinal) == true))
            .SelectMany(s => s.TagObjects.Select(t => $"{s.Source.Name} {s.DisplayName}: {t.Key}={t.Value}").Append($"{s.Source.Name}: {s.DisplayName}"))
            .ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(push!.GetTagItem("url.full") as string, Does.EndWith("/3/device/…fedcba"));
            Assert.That(values, Has.None.Contains(token), "no span carries the whole device token");
        }
    }

    [Test]
    public async Task SendsTheExactBodyAsAVoipPushAndAnAlertToTheRightEnvironments()
    {
        using var voip = await Admin.PostAsJsonAsync("/admin/v1/bindings", new { accountSid = CallNotifyApp.AccountSid, identity = "bob", channel = "apns-voip", address = "aa11", environment = "sandbox" });
        using var alert = await Admin.PostAsJsonAsync("/admin/v1/bindings", new { accountSid = CallNotifyApp.AccountSid, identity = "bob", channel = "apns", address = "bb22" });
        var body = TwilioRequests.Body(from: "client:alice");

        using var response = await PostWebhookAsync(body);
        var requests = await Eventually.Until(() => Task.FromResult(_apns.Requests.ToList()), r => r.Count == 2);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var voipRequest = requests.Single(r => r.PushType == "voip");
        var alertRequest = requests.Single(r => r.PushType == "alert");
        using var alertPayload = JsonDocument.Parse(alertRequest.Body);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_apns.Problems, Is.Empty);
            Assert.That(voipRequest.Endpoint, Is.EqualTo(ApnsEndpointKind.Sandbox));
            Assert.That(voipRequest.Protocol, Is.EqualTo("HTTP/2"));
            Assert.That(voipRequest.DeviceToken, Is.EqualTo("aa11"));
            Assert.That(voipRequest.Topic, Is.EqualTo(ApnsTestKeys.BundleId + ".voip"));
            Assert.That(voipRequest.Body, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
            Assert.That(alertRequest.Endpoint, Is.EqualTo(ApnsEndpointKind.Production));
            Assert.That(alertRequest.Topic, Is.EqualTo(ApnsTestKeys.BundleId));
            Assert.That(alertPayload.RootElement.GetProperty("twi_from").GetString(), Is.EqualTo("client:alice"));
            Assert.That(alertPayload.RootElement.GetProperty("aps").GetProperty("alert").GetProperty("title").GetString(), Is.EqualTo("Incoming call"));
        }
    }

    [Test]
    public async Task AnUnregisteredDeviceTokenDeactivatesTheBinding()
    {
        var binding = await RegisterAsync(identity: "bob", channel: "apns-voip", address: "cc33");
        _apns.Respond = (_, _) => Task.FromResult(new FakeReply(410, "Unregistered"));

        using var response = await PostWebhookAsync(TwilioRequests.Body());
        var reread = await Eventually.Until(
            () => Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{binding.GetProperty("id").GetString()}"),
            b => b.GetProperty("status").GetString() == "inactive");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(reread.GetProperty("inactiveReason").GetString(), Is.EqualTo("unregistered"));
        }
    }
}
