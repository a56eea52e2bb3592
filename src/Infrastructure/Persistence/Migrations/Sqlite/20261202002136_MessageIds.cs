using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MessageIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "message_ids",
                columns: table => new
                {
                    account_sid = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    twi_message_id = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    recorded_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_message_ids", x => new { x.account_sid, x.twi_message_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_message_ids_recorded_at",
                table: "message_ids",
                column: "recorded_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "message_ids");
        }
    }
}
