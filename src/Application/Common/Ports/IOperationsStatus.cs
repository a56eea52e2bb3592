namespace CallNotify.Application.Common.Ports;

/// <summary>The store's state as the console's overview shows it.</summary>
public interface IOperationsStatus
{
    /// <summary>Never throws for a store that is down: <see cref="StoreStatus.Reachable"/> says so.</summary>
    Task<StoreStatus> StoreAsync(CancellationToken cancellationToken);
}

/// <param name="Provider"><c>postgres</c> or <c>sqlite</c>.</param>
/// <param name="InstancesAlive">Instances with a fresh heartbeat (SQLite: this one); null when the store is unreachable.</param>
/// <param name="LiveSessions">Live WebSocket sessions on every live instance; null when the store is unreachable.</param>
public sealed record StoreStatus(string Provider, bool Reachable, int? InstancesAlive, int? LiveSessions);
