using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.WebSockets.IssueWebSocketToken;

public sealed record IssueWebSocketTokenCommand(string? AccountSid, string? Identity, int? TtlSeconds) : ICommand<WebSocketToken>
{
    public const int DefaultTtlSeconds = 3600;
    public const int MaxTtlSeconds = 86_400;
}

public sealed class IssueWebSocketTokenHandler(IWebSocketTokenService tokens, TimeProvider time)
    : ICommandHandler<IssueWebSocketTokenCommand, WebSocketToken>
{
    public ValueTask<WebSocketToken> Handle(IssueWebSocketTokenCommand command, CancellationToken cancellationToken)
    {
        var ttl = TimeSpan.FromSeconds(command.TtlSeconds ?? IssueWebSocketTokenCommand.DefaultTtlSeconds);
        var token = tokens.Issue(
            AccountSid.Parse(command.AccountSid),
            ClientIdentity.Parse(command.Identity),
            time.GetUtcNow() + ttl);
        return ValueTask.FromResult(token);
    }
}
