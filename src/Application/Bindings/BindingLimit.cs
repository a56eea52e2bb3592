using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Bindings;

/// <summary>
/// <c>Bindings:MaxPerIdentity</c>: an (account, identity) keeps at most that many active bindings; the least recently
/// refreshed beyond it are deactivated (reason <c>superseded</c>). Used at registration and by the sweeper (which
/// catches a lowered limit).
/// </summary>
internal static class BindingLimit
{
    /// <returns>How many bindings were deactivated.</returns>
    public static async Task<int> EnforceAsync(
        IBindingRepository bindings,
        AccountSid accountSid,
        ClientIdentity identity,
        int max,
        string? keepId,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var active = await bindings.FindActiveAsync(accountSid, identity, now, cancellationToken);
        if (active.Count <= max)
        {
            return 0;
        }

        // The binding just registered never goes, whatever the clock says.
        var byRecency = active
            .OrderByDescending(b => b.Id == keepId)
            .ThenByDescending(b => b.UpdatedAt)
            .ThenByDescending(b => b.Id, StringComparer.Ordinal);
        var deactivated = 0;
        foreach (var stale in byRecency.Skip(max))
        {
            var changed = false;
            await bindings.UpdateAsync(stale.Id, b => changed = b.Deactivate(InactiveReasons.Superseded, now), cancellationToken);
            deactivated += changed ? 1 : 0;
        }

        return deactivated;
    }
}
