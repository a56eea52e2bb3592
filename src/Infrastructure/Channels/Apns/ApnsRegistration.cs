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

    /// <summary>How long an open circuit fails requests fast before letting a probe through.</summary>
    internal static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

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
            .AddResilienceHandler("apns", ConfigureResilience)
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
    /// attempt and stops hammering an APNs that keeps failing (5xx, 429, timeouts, connection errors).
    /// </summary>
    private static void ConfigureResilience(ResiliencePipelineBuilder<HttpResponseMessage> pipeline)
    {
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            SamplingDuration = TimeSpan.FromSeconds(10),
            MinimumThroughput = 10,
            BreakDuration = BreakDuration,
        });
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = AttemptTimeout });
    }
}
