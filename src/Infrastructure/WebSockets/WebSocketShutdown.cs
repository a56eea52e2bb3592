using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// When the host starts stopping, every live session gets a going-away close (1001), so clients reconnect to
/// another instance at once and the server's drain does not wait for long-lived connections.
/// </summary>
public sealed class WebSocketShutdown(WebSocketSessionRegistry registry, IHostApplicationLifetime lifetime) : IHostedService
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a client gets to answer the close before its connection is dropped.</summary>
    private static readonly TimeSpan HandshakeGrace = TimeSpan.FromSeconds(2);

    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(() => CloseAllAsync().GetAwaiter().GetResult());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _registration.DisposeAsync().AsTask();

    internal async Task CloseAllAsync()
    {
        using var timeout = new CancellationTokenSource(CloseTimeout);
        await Task.WhenAll(registry.All.Select(session => CloseAsync(session, timeout.Token)));
    }

    private static async Task CloseAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        try
        {
            await session.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "server shutting down", cancellationToken);

            // A client that never answers the close must not hold the server's drain.
            _ = Task.Delay(HandshakeGrace, CancellationToken.None).ContinueWith(
                _ => session.Socket.Abort(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            session.Socket.Abort();
        }
    }
}
