using CallNotify.Application.Common.Ports;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Channels.Fcm;
using CallNotify.Infrastructure.Configuration;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.Persistence.Repositories;
using CallNotify.Infrastructure.Twilio;
using CallNotify.Infrastructure.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure;

public static class DependencyInjection
{
    public const string ReadinessTag = "ready";

    /// <summary>Registers the adapters: the store, the Twilio signature check, WebSocket sessions and channels.</summary>
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddOptions<TwilioOptions>().BindConfiguration(TwilioOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TwilioOptions>, TwilioOptionsValidator>();
        services.AddOptions<WebSocketTokenOptions>().BindConfiguration(WebSocketTokenOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebSocketTokenOptions>, WebSocketTokenOptionsValidator>();

        AddStore(services, StoreConnection.From(configuration, environment.ContentRootPath));

        services.AddSingleton<IWebhookSignatureVerifier, TwilioSignatureVerifier>();
        services.AddSingleton<IWebSocketTokenService, WebSocketTokenService>();
        services.AddSingleton<WebSocketSessionRegistry>();
        services.AddSingleton<ILiveSessionRegistry>(sp => sp.GetRequiredService<WebSocketSessionRegistry>());
        services.AddSingleton<WebSocketSessionHost>();
        services.AddSingleton<INotificationChannel, WebSocketChannel>();
        services.AddHostedService<WebSocketShutdown>();
        services.AddFcmChannel(configuration);
        services.AddApnsChannels(configuration);

        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [ReadinessTag]);
        return services;
    }

    private static void AddStore(IServiceCollection services, StoreConnection store)
    {
        services.AddSingleton(store);
        if (store.Provider == StorageProvider.Postgres)
        {
            services.AddPooledDbContextFactory<PostgresCallNotifyDbContext>(o => o.UseCallNotifyPostgres(store.ConnectionString));
            services.AddSingleton<IDbContextFactory<CallNotifyDbContext>>(sp =>
                new DbContextFactoryAdapter<PostgresCallNotifyDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresCallNotifyDbContext>>()));
        }
        else
        {
            services.AddPooledDbContextFactory<SqliteCallNotifyDbContext>(o => o.UseCallNotifySqlite(store.ConnectionString));
            services.AddSingleton<IDbContextFactory<CallNotifyDbContext>>(sp =>
                new DbContextFactoryAdapter<SqliteCallNotifyDbContext>(sp.GetRequiredService<IDbContextFactory<SqliteCallNotifyDbContext>>()));
        }

        services.AddSingleton<IBindingRepository, BindingRepository>();
        services.AddSingleton<INotificationRepository, NotificationRepository>();
        services.AddSingleton<StoreMigrator>();
    }
}
