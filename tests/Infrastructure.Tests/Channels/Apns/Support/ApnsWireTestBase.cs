using System.Text;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels.Apns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Infrastructure.Tests.Channels.Apns.Support;

/// <summary>
/// Runs the APNs channels as the service registers them (<see cref="ApnsRegistration.AddApnsChannels"/>) against the
/// fake APNs over HTTP/2 and TLS. The only test-specific piece is the primary handler's certificate check, which trusts
/// the fake's certificate. One fake server per fixture; a fresh service (own connections, token, circuits) per test.
/// </summary>
public abstract class ApnsWireTestBase
{
    internal const string DeviceToken = "8f2a43c1b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0";
    internal const string BridgeToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJicmlkZ2UifQ.c2VjcmV0LWJyaWRnZS10b2tlbg";

    internal const string Body =
        "{\"twi_account_sid\":\"AC00000000000000000000000000000001\",\"twi_bridge_token\":\"" + BridgeToken + "\"," +
        "\"twi_call_sid\":\"CA00000000000000000000000000000001\",\"twi_from\":\"client:alice\"," +
        "\"twi_message_id\":\"WB00000000000000000000000000000001\",\"twi_message_type\":\"twilio.voice.call\"," +
        "\"twi_to\":\"client:bob\",\"twi_params\":\"k=v&k2=v2\"}";

    internal static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    internal static readonly TimeSpan InviteTtl = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("NUnit", "NUnit1032", Justification = "Disposed in StopServiceAsync, bounded in time; the analyzer does not follow .AsTask().")]
    private ServiceProvider? _services;

    internal ApnsTestKeys Keys { get; private set; } = null!;

    internal FakeApnsServer Server { get; private set; } = null!;

    internal FakeTimeProvider Time { get; private set; } = null!;

    internal TestLogs Logs { get; private set; } = null!;

    internal INotificationChannel Voip { get; private set; } = null!;

    internal INotificationChannel Alert { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartFakeApnsAsync()
    {
        Keys = new ApnsTestKeys();
        Server = await FakeApnsServer.StartAsync(Keys);
    }

    [OneTimeTearDown]
    public async Task StopFakeApnsAsync()
    {
        await Server.DisposeAsync();
        Keys.Dispose();
    }

    [SetUp]
    public void StartService()
    {
        Server.Reset();
        Time = new FakeTimeProvider(Start);
        Logs = new TestLogs();
        Configure();
    }

    [TearDown]
    public async Task StopServiceAsync()
    {
        Server.ReleaseHeldRequests();
        if (_services is not null)
        {
            // Polly lets go of a pipeline only once its executions end, waiting on the (fake) clock: bounded here so a
            // request left hanging by a failed test fails the teardown instead of stalling the run.
            await _services.DisposeAsync().AsTask().WaitAsync(Patience);
            _services = null;
        }

        Logs.Dispose();
        Assert.That(Server.Problems, Is.Empty, "requests the fake APNs found malformed");
    }

    /// <summary>(Re)starts the service with the default settings, changed by <paramref name="change"/>.</summary>
    internal void Configure(Action<Dictionary<string, string?>>? change = null)
    {
        _services?.Dispose();
        var settings = new Dictionary<string, string?>
        {
            ["Apns:TeamId"] = ApnsTestKeys.TeamId,
            ["Apns:KeyId"] = ApnsTestKeys.KeyId,
            ["Apns:PrivateKeyFile"] = Keys.KeyFile,
            ["Apns:BundleId"] = ApnsTestKeys.BundleId,
            ["Apns:ProductionEndpoint"] = Server.ProductionEndpoint.ToString(),
            ["Apns:SandboxEndpoint"] = Server.SandboxEndpoint.ToString(),
        };
        change?.Invoke(settings);

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        services.AddSingleton<TimeProvider>(Time);
        services.AddApnsChannels(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddHttpClient(ApnsRegistration.HttpClientName).ConfigurePrimaryHttpMessageHandler((handler, _) =>
            ((SocketsHttpHandler)handler).SslOptions.RemoteCertificateValidationCallback =
                (_, certificate, _, _) => Keys.IsTheTestCertificate(certificate));
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        _services.GetRequiredService<IStartupValidator>().Validate();

        var channels = _services.GetServices<INotificationChannel>().ToDictionary(c => c.Kind);
        Voip = channels[ChannelKind.ApnsVoip];
        Alert = channels[ChannelKind.Apns];
    }

    internal ChannelMessage Message(
        ChannelKind channel,
        string body = Body,
        ApnsEnvironment environment = ApnsEnvironment.Production,
        string? appId = null,
        string address = DeviceToken) =>
        Message(channel, Encoding.UTF8.GetBytes(body), environment, appId, address);

    internal ChannelMessage Message(ChannelKind channel, byte[] body, ApnsEnvironment environment, string? appId, string address = DeviceToken)
    {
        var now = Time.GetUtcNow();
        return new ChannelMessage(
            Ids.New(Ids.DeliveryPrefix, now), channel, address, new BindingRegistration(environment, appId), "WB00000000000000000000000000000001", body, now + InviteTtl);
    }

    /// <summary>One delivery attempt on the channel the message names, bounded in time.</summary>
    internal Task<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken = default) =>
        (message.Channel == ChannelKind.ApnsVoip ? Voip : Alert).SendAsync(message, cancellationToken).AsTask().WaitAsync(Patience, CancellationToken.None);

    internal Task<DeliveryResult> SendAsync(ChannelKind channel) => SendAsync(Message(channel));

    internal List<string> DistinctTokens() => Server.Requests.Select(r => r.Jwt!).Distinct().ToList();

    internal IEnumerable<LogEntry> SenderLogs() => Logs.Entries.Where(e => e.Category == typeof(ApnsSender).FullName);
}
