using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using CallNotify.Infrastructure.Persistence.Postgres;
using Npgsql;

namespace CallNotify.Infrastructure.WebSockets.Instances;

/// <summary>
/// Reaches sessions held by other instances over PostgreSQL LISTEN/NOTIFY. Each instance LISTENs on its own channel
/// (<c>callnotify_in…</c>) on a dedicated connection, reopened when it fails. A send NOTIFYs the holder's channel with
/// references only (request, delivery, session, reply-to instance): NOTIFY payloads stop near 8000 bytes and bodies
/// go up to 64 KiB, so the holder reads the exact body from <c>call_notifications</c>, writes the frame, and NOTIFYs
/// the result back. A holder that does not answer within <see cref="ReplyTimeout"/> makes the attempt a retry.
/// </summary>
public sealed class PostgresSessionRelay(
    NpgsqlDataSource dataSource,
    PostgresPresence presence,
    WebSocketSessionRegistry sessions,
    WebSocketSessionCloser closer,
    ServiceInstance instance,
    ILogger<PostgresSessionRelay> logger) : BackgroundService, ISessionRelay
{
    /// <summary>How long a sender waits for the holder's answer; longer than the holder's own send timeout.</summary>
    internal static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the holder gives a relayed frame, so that its answer beats <see cref="ReplyTimeout"/>.</summary>
    private static readonly TimeSpan RelayedSendTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReconnectDelayCap = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, TaskCompletionSource<DeliveryResult>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _connected;
    private CancellationToken _stopping;

    /// <summary>The NOTIFY channel of an instance; ids are <c>IN</c> + lower-case hex, a valid identifier once lower-cased.</summary>
    public static string ChannelOf(string instanceId) => "callnotify_" + instanceId.ToLowerInvariant();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);

        // Listen before the server takes requests, so the first relays and replies are heard; a store that does not
        // answer does not hold the start-up: the loop keeps trying.
        await Task.WhenAny(_listening.Task, Task.Delay(StartupWait, cancellationToken));
    }

    public async ValueTask<DeliveryResult> SendAsync(string sessionId, string deliveryId, CancellationToken cancellationToken)
    {
        var holder = await presence.LocateAsync(sessionId, cancellationToken);
        if (holder is null || holder == instance.Id)
        {
            // Not held by a live instance, or held here and no longer in the local registry: closed.
            return DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        }

        if (!_connected)
        {
            // The answer could not be heard.
            return DeliveryResult.Retry("relay-not-listening");
        }

        var requestId = Guid.NewGuid().ToString("N");
        var reply = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[requestId] = reply;
        try
        {
            await NotifyAsync(holder, new RelayMessage(RelayMessage.SendType, requestId, instance.Id, sessionId, deliveryId, null), cancellationToken);
            return await reply.Task.WaitAsync(ReplyTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Instance {Holder} did not answer the relay of delivery {DeliveryId} in time", holder, deliveryId);
            return DeliveryResult.Retry("relay-timeout");
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    public async Task EndAsync(string sessionId, string instanceId, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await NotifyAsync(instanceId, new RelayMessage(RelayMessage.EndType, Guid.NewGuid().ToString("N"), instance.Id, sessionId, null, reason), cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Instance {Holder} could not be asked to end session {SessionId} ({Reason})", instanceId, sessionId, reason);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var delay = ReconnectDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
            {
                // A connection that had been listening starts the backoff over.
                if (_connected)
                {
                    delay = ReconnectDelay;
                }

                logger.LogWarning(ex, "Relay listener of instance {InstanceId} lost its connection; reconnecting in {Delay}", instance.Id, delay);
            }
            finally
            {
                _connected = false;
            }

            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, ReconnectDelayCap.Ticks));
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        connection.Notification += OnNotification;
        await using (var listen = new NpgsqlCommand($"LISTEN \"{ChannelOf(instance.Id)}\"", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        _connected = true;
        _listening.TrySetResult();
        logger.LogDebug("Instance {InstanceId} listens on {Channel}", instance.Id, ChannelOf(instance.Id));
        while (true)
        {
            // A connection that died silently is found out by a query when nothing arrived for a while.
            if (!await connection.WaitAsync(IdleCheck, stoppingToken))
            {
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(stoppingToken);
            }
        }
    }

    /// <summary>Raised on the listening connection's reader: work is handed off, never done here.</summary>
    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        RelayMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(e.Payload, RelayJsonContext.Default.RelayMessage);
        }
        catch (JsonException)
        {
            logger.LogWarning("Ignored a malformed relay message on {Channel}", e.Channel);
            return;
        }

        switch (message)
        {
            case { Type: RelayMessage.ResultType, Result: { } result }:
                if (_pending.TryGetValue(message.RequestId, out var reply))
                {
                    reply.TrySetResult(RelayResults.Parse(result));
                }

                break;
            case { Type: RelayMessage.SendType, SessionId: { } sessionId, DeliveryId: { } deliveryId, ReplyTo: { } replyTo }
                when Ids.IsValid(Ids.InstancePrefix, replyTo):
                _ = Task.Run(() => DeliverAsync(message.RequestId, sessionId, deliveryId, replyTo), CancellationToken.None);
                break;
            case { Type: RelayMessage.EndType, SessionId: { } sessionId, Result: { } reason }
                when WebSocketSessionCloser.RelayedReasons.Contains(reason):
                if (sessions.Get(sessionId) is { } session)
                {
                    _ = Task.Run(() => closer.EndAsync(session, reason), CancellationToken.None);
                }

                break;
            default:
                logger.LogWarning("Ignored an unknown relay message on {Channel}", e.Channel);
                break;
        }
    }

    /// <summary>The holder's side: read the exact body, write the frame to the local session, answer the sender.</summary>
    private async Task DeliverAsync(string requestId, string sessionId, string deliveryId, string replyTo)
    {
        var stopping = _stopping;
        try
        {
            var result = await DeliverLocallyAsync(sessionId, deliveryId, stopping);
            await NotifyAsync(replyTo, new RelayMessage(RelayMessage.ResultType, requestId, instance.Id, sessionId, deliveryId, RelayResults.Format(result)), stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: the sender's wait runs out and it retries.
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Relayed delivery {DeliveryId} to session {SessionId} could not be completed", deliveryId, sessionId);
        }
    }

    private async Task<DeliveryResult> DeliverLocallyAsync(string sessionId, string deliveryId, CancellationToken cancellationToken)
    {
        var session = sessions.Get(sessionId);
        if (session is null)
        {
            return DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        }

        byte[] body;
        string twiMessageId;
        await using (var command = dataSource.CreateCommand(PresenceSql.RelayedBodySql))
        {
            command.Parameters.AddWithValue("delivery", deliveryId);
            command.Parameters.AddWithValue("session", sessionId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return DeliveryResult.Failed("notification-not-found");
            }

            body = reader.GetFieldValue<byte[]>(0);
            twiMessageId = reader.GetString(1);
        }

        return await WebSocketChannel.SendFrameAsync(session, body, twiMessageId, RelayedSendTimeout, cancellationToken);
    }

    private async Task NotifyAsync(string instanceId, RelayMessage message, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PresenceSql.NotifySql);
        command.Parameters.AddWithValue("channel", ChannelOf(instanceId));
        command.Parameters.AddWithValue("payload", JsonSerializer.Serialize(message, RelayJsonContext.Default.RelayMessage));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override void Dispose()
    {
        foreach (var reply in _pending.Values)
        {
            reply.TrySetResult(DeliveryResult.Retry("relay-stopped"));
        }

        base.Dispose();
    }
}

/// <summary>
/// One relay message: a send request (<c>t=send</c>) or its answer (<c>t=result</c>), or a request to end a session
/// (<c>t=end</c>, the reason in <c>r</c>). References only: the body is read from the store by the instance holding the
/// session.
/// </summary>
internal sealed record RelayMessage(
    [property: JsonPropertyName("t")] string Type,
    [property: JsonPropertyName("q")] string RequestId,
    [property: JsonPropertyName("from")] string? ReplyTo,
    [property: JsonPropertyName("s")] string? SessionId,
    [property: JsonPropertyName("d")] string? DeliveryId,
    [property: JsonPropertyName("r")] string? Result)
{
    public const string SendType = "send";
    public const string ResultType = "result";
    public const string EndType = "end";
}

internal static class RelayResults
{
    private const string Accepted = "accepted";
    private const string Failed = "failed:";
    private const string Retry = "retry:";

    public static string Format(DeliveryResult result) => result.Kind switch
    {
        DeliveryResultKind.Accepted => Accepted,
        DeliveryResultKind.ClientGone => DeliveryErrors.SessionClosed,
        DeliveryResultKind.Failed => Failed + result.Reason,
        _ => Retry + result.Reason,
    };

    public static DeliveryResult Parse(string value) => value switch
    {
        Accepted => DeliveryResult.Accepted(),
        DeliveryErrors.SessionClosed => DeliveryResult.ClientGone(DeliveryErrors.SessionClosed),
        _ when value.StartsWith(Failed, StringComparison.Ordinal) => DeliveryResult.Failed(value[Failed.Length..]),
        _ => DeliveryResult.Retry(value.StartsWith(Retry, StringComparison.Ordinal) ? value[Retry.Length..] : "relay-unknown-result"),
    };
}

[JsonSerializable(typeof(RelayMessage))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
