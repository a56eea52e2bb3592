using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>Ready when the store answers and every migration is applied.</summary>
internal sealed class StoreHealthCheck(StoreMigrator migrator) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var (reachable, pending) = await migrator.CheckAsync(cancellationToken);
            if (!reachable)
            {
                return HealthCheckResult.Unhealthy("The store does not answer.");
            }

            return pending == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{pending} migration(s) not applied.");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("The store does not answer.", ex);
        }
    }
}
