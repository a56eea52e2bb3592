using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Channels.Fcm;
using CallNotify.Infrastructure.Configuration;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.Persistence.Postgres;
using CallNotify.Infrastructure.Persistence.Repositories;
using CallNotify.Infrastructure.Twilio;
using CallNotify.Infrastructure.WebSockets;
using CallNotify.Infrastructure.WebSockets.Instances;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

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
        services.AddSingleton<IAccessTokenVerifier, Twilio.AccessTokenVerifier>();
        services.AddSingleton<ServiceInstance>();
        services.AddSingleton<WebSocketSessionRegistry>();
        services.AddSingleton<WebSocketSessionCloser>();
        services.AddSingleton<WebSocketSessions>();
        services.AddSingleton<IIdentitySessions>(sp => sp.GetRequiredService<WebSocketSessions>());
        services.AddSingleton<ILiveConnections>(sp => sp.GetRequiredService<WebSocketSessions>());
        services.AddSingleton<INotificationChannel, WebSocketChannel>();
        services.AddHostedService<WebSocketShutdown>();
        services.AddSingleton<Dispatch.DeliveryWorker>();
        services.AddSingleton<IDeliveryJobs>(sp => sp.GetRequiredService<Dispatch.DeliveryWorker>());
        services.AddHostedService(sp => sp.GetRequiredService<Dispatch.DeliveryWorker>());
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

        AddSessionRouting(services, store);
        // The admin API, registrations and the sweeper: EF Core on both stores.
        services.AddSingleton<BindingRepository>();
        services.AddSingleton<IBindingRepository>(sp => sp.GetRequiredService<BindingRepository>());
        services.AddSingleton<NotificationRepository>();
        services.AddSingleton<INotificationHistory>(sp => sp.GetRequiredService<NotificationRepository>());
        services.AddSingleton<ISignOuts, SignOutRepository>();
        if (store.Provider == StorageProvider.Postgres)
        {
            // The webhook's and the delivery pipeline's path: plain Npgsql, batched lookups, group commit (ADR 0021).
            services.AddSingleton<StoreMetrics>();
            services.AddSingleton<GroupCommit>();
            services.AddSingleton<PostgresCalleeLookup>();
            services.AddSingleton<INotificationStore, PostgresNotificationStore>();
        }
        else
        {
            services.AddSingleton<INotificationStore>(sp => sp.GetRequiredService<NotificationRepository>());
        }

        services.AddSingleton<StoreMigrator>();
    }

    /// <summary>
    /// Where live sessions are counted and how they are reached: on PostgreSQL across every instance on the database
    /// (presence rows with heartbeats, LISTEN/NOTIFY relay; see docs/decisions/0008), on SQLite in this process only.
    /// </summary>
    private static void AddSessionRouting(IServiceCollection services, StoreConnection store)
    {
        if (store.Provider == StorageProvider.Postgres)
        {
            services.AddSingleton(sp => CreateDataSource(store.ConnectionString, sp.GetRequiredService<IOptions<StoreBudgetOptions>>().Value));
            services.AddKeyedSingleton(BatchedStatements, (sp, _) =>
                CreateDataSource(store.ConnectionString, sp.GetRequiredService<IOptions<StoreBudgetOptions>>().Value, genericPlans: true));
            services.AddSingleton<PostgresPresence>();
            services.AddSingleton<ILiveSessionRegistry>(sp => sp.GetRequiredService<PostgresPresence>());
            services.AddSingleton<ISessionPresence>(sp => sp.GetRequiredService<PostgresPresence>());
            services.AddSingleton<PostgresSessionRelay>();
            services.AddSingleton<ISessionRelay>(sp => sp.GetRequiredService<PostgresSessionRelay>());
            services.AddHostedService<InstanceHeartbeat>();
            services.AddHostedService<SignOutWatcher>();
            services.AddSingleton<IOperationsStatus, Persistence.PostgresOperationsStatus>();
            services.AddHostedService(sp => sp.GetRequiredService<PostgresSessionRelay>());
        }
        else
        {
            services.AddSingleton<ILiveSessionRegistry>(sp => sp.GetRequiredService<WebSocketSessionRegistry>());
            services.AddSingleton<IOperationsStatus, Persistence.SqliteOperationsStatus>();
            services.AddSingleton<SingleInstanceSessions>();
            services.AddSingleton<ISessionPresence>(sp => sp.GetRequiredService<SingleInstanceSessions>());
            services.AddSingleton<ISessionRelay>(sp => sp.GetRequiredService<SingleInstanceSessions>());
        }
    }

    /// <summary>The session setting that makes PostgreSQL keep one generic plan per prepared statement.</summary>
    internal const string GenericPlans = "-c plan_cache_mode=force_generic_plan";

    /// <summary>The session setting that keeps sequential scans out of the batched statements' plans.</summary>
    internal const string IndexScans = "-c enable_seqscan=off";

    /// <summary>Appends <paramref name="option"/> to the connection's Options unless they already set <paramref name="setting"/>.</summary>
    private static void AddOption(NpgsqlConnectionStringBuilder connection, string setting, string option)
    {
        var options = connection.Options;
        if (options is null || !options.Contains(setting, StringComparison.OrdinalIgnoreCase))
        {
            connection.Options = string.IsNullOrWhiteSpace(options) ? option : options + " " + option;
        }
    }

    /// <summary>
    /// The key of the data source of the batched statements (the group commit's writes and the grouped callee lookup):
    /// the same database as the other, its own pool, generic plans (see <see cref="CreateDataSource"/>).
    /// </summary>
    public const string BatchedStatements = "callnotify-batched-statements";

    /// <summary>
    /// The data source of the service's own Npgsql statements (the webhook's path, presence, relay). Its few statement
    /// shapes repeat on every webhook, so they are prepared on the server (auto-prepare) unless the connection string
    /// says otherwise. Opening a connection gives up after the webhook's store budget (rounded up to whole seconds),
    /// and a statement one second after it, unless the connection string sets its own timeouts: a database that hangs
    /// then frees the connections and writers it holds soon after the webhook has answered 503.
    /// </summary>
    /// <param name="genericPlans">
    /// True for the batched statements' own data source (<see cref="BatchedStatements"/>): its sessions keep one generic
    /// plan per prepared statement.
    /// </param>
    internal static NpgsqlDataSource CreateDataSource(string connectionString, StoreBudgetOptions budget, bool genericPlans = false)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Auto Prepare Min Usages") && !given.ContainsKey("Max Auto Prepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        // A statement gives up a second after the webhook's budget, so the webhook answers 503 first. Its cancellation
        // then breaks the connection at once instead of waiting up to 2 s for the server to confirm it: a server that
        // hangs never confirms, and the wait would hold a thread-pool thread (on 2 cores, every waiting webhook's).
        var seconds = (int)Math.Ceiling(budget.WebhookBudget.TotalSeconds);
        if (!given.ContainsKey("Timeout"))
        {
            builder.ConnectionStringBuilder.Timeout = seconds;
        }

        if (!given.ContainsKey("Command Timeout") && !given.ContainsKey("CommandTimeout"))
        {
            builder.ConnectionStringBuilder.CommandTimeout = seconds + 1;
        }

        if (!given.ContainsKey("Cancellation Timeout") && !given.ContainsKey("CancellationTimeout"))
        {
            builder.ConnectionStringBuilder.CancellationTimeout = -1;
        }

        // The batched statements keep one generic plan each instead of being planned again on every run: with the
        // arrays' sizes in hand PostgreSQL otherwise prefers a custom plan, and the binding lookup was planned on 3 of
        // every 4 runs, 0.3 ms each, four times what running it took (ADR 0029). Their generic plans are checked at 1,
        // 16 and 256 rows (BatchPlanTests). The session lookup sets its own mode back to auto (PostgresCalleeLookup),
        // and the other statements keep PostgreSQL's choice: the takeover scan's generic plan is ten times slower than
        // its custom one. A connection string whose Options set plan_cache_mode keeps its own.
        //
        // A generic plan is made at a statement's first run on a connection and kept until the table's statistics change:
        // one made while live_sessions held a few rows read the whole table for each callee once it held thousands,
        // until autovacuum analyzed it again. Every batched statement reads its rows through an index by design, so
        // their sessions also rule out sequential scans (BatchPlanTests): a plan made on a small table is then the one
        // a large table needs. A connection string whose Options set either setting keeps its own.
        if (genericPlans)
        {
            AddOption(builder.ConnectionStringBuilder, "plan_cache_mode", GenericPlans);
            AddOption(builder.ConnectionStringBuilder, "enable_seqscan", IndexScans);
        }

        // Nothing here runs inside a System.Transactions scope: opening a connection need not look for one.
        if (!given.ContainsKey("Enlist"))
        {
            builder.ConnectionStringBuilder.Enlist = false;
        }

        // No session state outlives a round trip of these statements (no temp tables, no advisory locks; the one SET,
        // the session lookup's plan mode, is reset in the same round trip), so a pooled connection needs no reset
        // between uses: it would cost four statements on every use.
        builder.ConnectionStringBuilder.NoResetOnClose = true;

        return builder.Build();
    }
}
