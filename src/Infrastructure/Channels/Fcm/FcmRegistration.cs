using System.Net;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace CallNotify.Infrastructure.Channels.Fcm;

public static class FcmRegistration
{
    internal const string PipelineName = "fcm";

    /// <summary>One attempt's wait for FCM's answer headers.</summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Backstop for a whole request, body included.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);


    /// <summary>
    /// Binds and validates <c>Fcm</c> (at start), and registers the FCM channel when <c>Fcm:CredentialsFile</c> is set.
    /// Without it no FCM channel exists and FCM deliveries fail with <c>channel-not-configured</c>.
    /// </summary>
    public static IServiceCollection AddFcmChannel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(FcmOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<FcmOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FcmOptions>, FcmOptionsValidator>());

        if (string.IsNullOrWhiteSpace(section[nameof(FcmOptions.CredentialsFile)]))
        {
            return services;
        }

        services.TryAddSingleton<IFcmAccessTokenSource, GoogleFcmAccessTokenSource>();
        services.TryAddSingleton<FcmCircuit>();

        // No retry strategy here: the dispatcher retries within the invite and records every attempt. The breaker makes
        // a dead FCM fail fast instead of costing every delivery a timeout; it opens only on FCM-wide evidence.
        services.AddHttpClient<FcmChannel>((sp, client) =>
            {
                client.BaseAddress = sp.GetRequiredService<IOptions<FcmOptions>>().Value.EndpointUri();
                client.Timeout = RequestTimeout;
                client.DefaultRequestVersion = HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            })
            // The dispatcher is a singleton and keeps its channels: connections are recycled here instead of by the
            // factory's handler rotation.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = AttemptTimeout,
            })
            .AddResilienceHandler(PipelineName, (builder, context) =>
            {
                var circuit = context.ServiceProvider.GetRequiredService<FcmCircuit>().Circuit;
                builder
                    .AddCircuitBreaker(circuit.Options(_ => FcmCircuit.Key))
                    .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = AttemptTimeout });
            });

        services.AddTransient<INotificationChannel>(sp => sp.GetRequiredService<FcmChannel>());
        return services;
    }
}

/// <summary>FCM's one circuit: FCM-wide evidence only, a 401 (our credentials refused) included.</summary>
internal sealed class FcmCircuit(TimeProvider time)
{
    public const string Key = "fcm";

    public ProviderCircuit Circuit { get; } = new(time, response => ValueTask.FromResult(response.StatusCode == HttpStatusCode.Unauthorized));
}
