using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Application.Maintenance.SweepStore;

/// <summary>
/// Housekeeping: bindings past their TTL become inactive (reason <c>expired</c>), and notification records older
/// than <see cref="RetentionOptions.NotificationDays"/> are purged (their outcomes remembered), remembered outcomes
/// older than <see cref="RetentionOptions.MessageIdDays"/> are forgotten, and identities over <c>Bindings:MaxPerIdentity</c>
/// active bindings lose the least recently refreshed. Work is done in bounded batches, and every step is
/// idempotent, so several instances may sweep at once.
/// </summary>
public sealed record SweepStoreCommand : ICommand<SweepResult>;

public sealed record SweepResult(int BindingsExpired, int NotificationsPurged, int BindingsSuperseded, int MessageIdsForgotten);

public sealed class SweepStoreHandler(
    IBindingRepository bindings,
    INotificationHistory notifications,
    IOptions<RetentionOptions> options,
    IOptions<BindingOptions> bindingOptions,
    TimeProvider time) : ICommandHandler<SweepStoreCommand, SweepResult>
{
    /// <summary>Batches per sweep and kind: what is left waits for the next sweep.</summary>
    private const int MaxBatches = 20;

    public async ValueTask<SweepResult> Handle(SweepStoreCommand command, CancellationToken cancellationToken)
    {
        var batch = options.Value.BatchSize;
        var now = time.GetUtcNow();

        var expired = 0;
        for (var i = 0; i < MaxBatches; i++)
        {
            var ids = await bindings.FindExpiredActiveAsync(now, batch, cancellationToken);
            foreach (var id in ids)
            {
                var changed = false;
                await bindings.UpdateAsync(id, b => changed = b.ExpiresAt <= now && b.Deactivate(InactiveReasons.Expired, now), cancellationToken);
                expired += changed ? 1 : 0;
            }

            if (ids.Count < batch)
            {
                break;
            }
        }

        var purged = 0;
        var cutoff = now - TimeSpan.FromDays(options.Value.NotificationDays);
        for (var i = 0; i < MaxBatches; i++)
        {
            var deleted = await notifications.PurgeReceivedBeforeAsync(cutoff, batch, cancellationToken);
            purged += deleted;
            if (deleted < batch)
            {
                break;
            }
        }

        var forgotten = 0;
        var messageIdCutoff = now - TimeSpan.FromDays(options.Value.MessageIdDays);
        for (var i = 0; i < MaxBatches; i++)
        {
            var deleted = await notifications.ForgetRememberedBeforeAsync(messageIdCutoff, batch, cancellationToken);
            forgotten += deleted;
            if (deleted < batch)
            {
                break;
            }
        }

        // A lowered Bindings:MaxPerIdentity takes effect on identities nobody re-registers.
        var superseded = 0;
        var max = bindingOptions.Value.MaxPerIdentity;
        foreach (var (account, identity) in await bindings.FindCrowdedIdentitiesAsync(max, batch, cancellationToken))
        {
            superseded += await Bindings.BindingLimit.EnforceAsync(
                bindings, account, identity, max, keepId: null, now, cancellationToken);
        }

        return new SweepResult(expired, purged, superseded, forgotten);
    }
}
