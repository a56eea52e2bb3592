using System.Net;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace CallNotify.Infrastructure.Channels.Apns;

public static class ApnsRegistration
{
    /// <summary>The named <see cref="HttpClient"/> every APNs request goes through.</summary>
    public const string HttpClientName = "apns";

    /// <summary>The most one request may take before it counts as a transport failure.</summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);


    /// <summary>
    /// Binds and validates <c>Apns</c> (at start-up, also when APNs is off, so a half-configured key set fails), and
    /// when <c>Apns:TeamId</c>, <c>Apns:KeyId</c> and <c>Apns:PrivateKeyFile</c> are all set registers the
    /// <c>apns-voip</c> and <c>apns</c> channels over one HTTP/2 client.
    /// </summary>
    public static IServiceCollection AddApnsChannels(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(ApnsOptions.Section);
        services.AddOptions<ApnsOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApnsOptions>, ApnsOptionsValidator>());

        // Only the three key settings decide; binding the whole section here would turn a malformed number into a
        // registration-time exception instead of a start-up validation failure.
        var configured = new ApnsOptions
        {
            TeamId = section[nameof(ApnsOptions.TeamId)],
            KeyId = section[nameof(ApnsOptions.KeyId)],
            PrivateKeyFile = section[nameof(ApnsOptions.PrivateKeyFile)],
        }.IsConfigured;
        if (!configured || services.Any(d => d.ServiceType == typeof(ApnsSender)))
        {
            // Off, or already registered: a second set of channels would give the dispatcher two per kind.
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApnsJwtProvider>();
        services.AddSingleton<ApnsCircuit>();
        services.AddSingleton<ApnsSender>();
        services.AddSingleton<INotificationChannel, ApnsVoipChannel>();
        services.AddSingleton<INotificationChannel, ApnsAlertChannel>();

        services.AddHttpClient(HttpClientName, client =>
            {
                client.DefaultRequestVersion = HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                client.MaxResponseContentBufferSize = 64 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(CreatePrimaryHandler)
            // Apple treats connect/disconnect churn as abuse: the factory must never recycle the handler (and with it
            // the HTTP/2 connections), so its lifetime is infinite and the connections live until APNs closes them.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The default HttpClient logging writes the request URI, which ends in the device token.
            .RemoveAllLoggers()
            .AddResilienceHandler("apns", (pipeline, context) => ConfigureResilience(pipeline, context.ServiceProvider.GetRequiredService<ApnsCircuit>()))
            // One circuit per authority: an outage of the sandbox does not stop production pushes.
            .SelectPipelineByAuthority();

        return services;
    }

    private static SocketsHttpHandler CreatePrimaryHandler() => new()
    {
        PooledConnectionIdleTimeout = TimeSpan.FromHours(1),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    };

    /// <summary>
    /// No retry here: the dispatcher retries with backoff while the invite lives, so the pipeline only bounds each
    /// attempt and stops hammering an APNs that keeps failing for everyone (transport errors, timeouts, our provider
    /// token refused, 5xx and 429 for several devices); one device's failures never open it.
    /// </summary>
    private static void ConfigureResilience(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ApnsCircuit circuit)
    {
        pipeline.AddCircuitBreaker(circuit.Circuit.Options(ApnsCircuit.KeyOf));
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = AttemptTimeout });
    }
}

/// <summary>
/// The APNs circuits, one per authority (production, sandbox): APNs-wide evidence only, a 403 (our provider token or
/// certificate refused, whatever the device) included, but for <c>ExpiredProviderToken</c>: the sender renews the
/// token and sends again, and a burst of pushes meeting one expiry must not open the circuit.
/// </summary>
internal sealed class ApnsCircuit(TimeProvider time)
{
    public ProviderCircuit Circuit { get; } = new(time, RefusesOurCredentialsAsync);

    private static async ValueTask<bool> RefusesOurCredentialsAsync(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Forbidden)
        {
            return false;
        }

        // Apple's reason is in the small JSON body; buffered here, the sender reads it again.
        await response.Content.LoadIntoBufferAsync(64 * 1024);
        var body = await response.Content.ReadAsStringAsync();
        return !body.Contains("\"ExpiredProviderToken\"", StringComparison.Ordinal);
    }

    public static string KeyOf(ResilienceContext context) => context.GetRequestMessage()?.RequestUri?.Authority ?? string.Empty;
}
