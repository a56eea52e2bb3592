using Microsoft.Extensions.Options;

namespace CallNotify.Application.Common.Options;

internal sealed class DispatchOptionsValidator : IValidateOptions<DispatchOptions>
{
    public ValidateOptionsResult Validate(string? name, DispatchOptions options)
    {
        var failures = new List<string>();
        if (options.InviteTtlSeconds is < 1 or > 600)
        {
            failures.Add($"{DispatchOptions.Section}:InviteTtlSeconds must be between 1 and 600 (was {options.InviteTtlSeconds}).");
        }

        if (options.ResponseDeadlineMilliseconds is < 10 or > 14_000)
        {
            failures.Add($"{DispatchOptions.Section}:ResponseDeadlineMilliseconds must be between 10 and 14000, below Twilio's 15 s timeout (was {options.ResponseDeadlineMilliseconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class StoreBudgetOptionsValidator : IValidateOptions<StoreBudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreBudgetOptions options) =>
        options.WebhookBudgetMilliseconds is < 100 or > 14_000
            ? ValidateOptionsResult.Fail(
                $"{StoreBudgetOptions.Section}:WebhookBudgetMilliseconds must be between 100 and 14000, below Twilio's 15 s timeout (was {options.WebhookBudgetMilliseconds}).")
            : ValidateOptionsResult.Success;
}

internal sealed class BindingOptionsValidator : IValidateOptions<BindingOptions>
{
    public ValidateOptionsResult Validate(string? name, BindingOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPerIdentity is < 1 or > 1000)
        {
            failures.Add($"{BindingOptions.Section}:MaxPerIdentity must be between 1 and 1000 (was {options.MaxPerIdentity}).");
        }

        if (options.TtlDays is < 1 or > 3650)
        {
            failures.Add($"{BindingOptions.Section}:TtlDays must be between 1 and 3650 (was {options.TtlDays}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var failures = new List<string>();
        if (options.NotificationDays is < 1 or > 3650)
        {
            failures.Add($"{RetentionOptions.Section}:NotificationDays must be between 1 and 3650 (was {options.NotificationDays}).");
        }

        if (options.MessageIdDays is < 1 or > 3650 || options.MessageIdDays < options.NotificationDays)
        {
            failures.Add(
                $"{RetentionOptions.Section}:MessageIdDays must be between 1 and 3650 and at least {RetentionOptions.Section}:NotificationDays ({options.NotificationDays}), "
                + $"so that a message id outlives its record (was {options.MessageIdDays}).");
        }

        if (options.SweepIntervalSeconds is < 1 or > 86_400)
        {
            failures.Add($"{RetentionOptions.Section}:SweepIntervalSeconds must be between 1 and 86400 (was {options.SweepIntervalSeconds}).");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            failures.Add($"{RetentionOptions.Section}:BatchSize must be between 1 and 10000 (was {options.BatchSize}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
