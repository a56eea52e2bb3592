using Mediator;

namespace CallNotify.Api.Hosting;

/// <summary>Sends one command on a fixed interval, in a scope of its own, on every instance; a failed run waits for the next tick.</summary>
public abstract class PeriodicCommandService<TCommand, TResult>(
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger logger) : BackgroundService
    where TCommand : ICommand<TResult>, new()
{
    protected abstract TimeSpan Interval { get; }

    /// <summary>Logs what a run did, if worth it.</summary>
    protected abstract void Report(TResult result);

    /// <summary>The command of the next run.</summary>
    protected virtual TCommand NextCommand() => new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                Report(await scope.ServiceProvider.GetRequiredService<ISender>().Send(NextCommand(), stoppingToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store may be down: the next tick tries again.
                logger.LogWarning(ex, "{Command} failed; retrying at the next interval", typeof(TCommand).Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
