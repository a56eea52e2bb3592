using Microsoft.Extensions.Options;

namespace CallNotify.Application.Common.Options;

/// <summary>What one identity may hold and one session may send (SPEC §2, the <c>WebSocket</c> section).</summary>
public sealed class WebSocketSessionOptions
{
    public const string Section = "WebSocket";

    /// <summary>Live sessions per (account, identity), on all instances together; a new one beyond it closes the oldest.</summary>
    public int MaxSessionsPerIdentity { get; set; } = 10;

    /// <summary>Frames one session may send per minute; a session that sends more is closed (1008, <c>frame-rate</c>).</summary>
    public int MaxFramesPerMinute { get; set; } = 120;

    /// <summary>The largest message a client may send; a larger one closes the session (1009).</summary>
    public int MaxFrameBytes { get; set; } = 4096;
}

internal sealed class WebSocketSessionOptionsValidator : IValidateOptions<WebSocketSessionOptions>
{
    public ValidateOptionsResult Validate(string? name, WebSocketSessionOptions options)
    {
        var failures = new List<string>();
        if (options.MaxSessionsPerIdentity is < 1 or > 1000)
        {
            failures.Add($"{WebSocketSessionOptions.Section}:MaxSessionsPerIdentity must be between 1 and 1000 (was {options.MaxSessionsPerIdentity}).");
        }

        if (options.MaxFramesPerMinute is < 1 or > 100_000)
        {
            failures.Add($"{WebSocketSessionOptions.Section}:MaxFramesPerMinute must be between 1 and 100000 (was {options.MaxFramesPerMinute}).");
        }

        // An acknowledgement with the longest message id must fit.
        if (options.MaxFrameBytes is < 512 or > 65_536)
        {
            failures.Add($"{WebSocketSessionOptions.Section}:MaxFrameBytes must be between 512 and 65536 (was {options.MaxFrameBytes}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
