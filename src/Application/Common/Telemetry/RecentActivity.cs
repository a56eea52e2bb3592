using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Telemetry;

/// <summary>
/// This instance's webhook answers and delivery attempts of the last <see cref="WindowMinutes"/> minutes, in one-minute
/// buckets, for the console's overview (the metrics keep the totals).
/// </summary>
public sealed class RecentActivity(TimeProvider time)
{
    public const int WindowMinutes = 15;

    private readonly Lock _gate = new();
    private readonly Dictionary<(long Minute, int Status), long> _webhooks = [];
    private readonly Dictionary<(long Minute, string Channel, string Outcome), long> _deliveries = [];

    public void Webhook(int status)
    {
        var minute = Minute();
        lock (_gate)
        {
            _webhooks[(minute, status)] = _webhooks.GetValueOrDefault((minute, status)) + 1;
            Prune(minute);
        }
    }

    public void Delivery(ChannelKind channel, string outcome)
    {
        var minute = Minute();
        var key = (minute, channel.ToWire(), outcome);
        lock (_gate)
        {
            _deliveries[key] = _deliveries.GetValueOrDefault(key) + 1;
            Prune(minute);
        }
    }

    /// <summary>The counts within the window, summed over its minutes.</summary>
    public (IReadOnlyList<WebhookCount> Webhooks, IReadOnlyList<DeliveryCount> Deliveries) Snapshot()
    {
        var since = Minute() - WindowMinutes;
        lock (_gate)
        {
            return (
                [.. _webhooks.Where(w => w.Key.Minute > since).GroupBy(w => w.Key.Status).OrderBy(g => g.Key)
                    .Select(g => new WebhookCount(g.Key, g.Sum(w => w.Value)))],
                [.. _deliveries.Where(d => d.Key.Minute > since).GroupBy(d => (d.Key.Channel, d.Key.Outcome)).OrderBy(g => g.Key)
                    .Select(g => new DeliveryCount(g.Key.Channel, g.Key.Outcome, g.Sum(d => d.Value)))]);
        }
    }

    private long Minute() => time.GetUtcNow().ToUnixTimeSeconds() / 60;

    /// <summary>Drops buckets that left the window; cheap, as the keys are few (statuses, channels × outcomes, minutes).</summary>
    private void Prune(long minute)
    {
        var oldest = minute - WindowMinutes;
        if (_webhooks.Count > 64)
        {
            foreach (var key in _webhooks.Keys.Where(k => k.Minute <= oldest).ToList())
            {
                _webhooks.Remove(key);
            }
        }

        if (_deliveries.Count > 256)
        {
            foreach (var key in _deliveries.Keys.Where(k => k.Minute <= oldest).ToList())
            {
                _deliveries.Remove(key);
            }
        }
    }
}

public sealed record WebhookCount(int Status, long Count);

public sealed record DeliveryCount(string Channel, string Outcome, long Count);
