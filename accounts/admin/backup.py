"""The user admin's "export this user's data" and "import a file for this user" pages.

Both call the backup service (`ledger.services.backup`), exactly as `GET /backup/export` and
`POST /backup/import` do. The import is two steps: the upload runs the service as a dry run
and shows its report; the uploaded bytes wait in the cache (1 hour, bound to the staff member
and the target user) until "Confirm import" runs the same service for real.

So the file is held whole (in memory, then in the cache): ADMIN_IMPORT_MAX_BYTES (20 MB) caps
it, and both steps take one of the process's import slots (IMPORT_SLOTS, shared with
`POST /backup/import`), so admin imports add to a worker's memory bound like API imports do.
Larger files go through `manage.py import_indexeddb`, which streams them.
"""

import io
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from household_ledger.api.slots import SlotsBusy
from ledger.api.backup import IMPORT_SLOTS_OF_PROCESS
from ledger.services.backup import (
    BackupError,
    BackupTooLarge,
    BackupTooManyRows,
    backup_content_disposition,
    backup_export,
    backup_export_filename,
    backup_import,
    backup_read,
)
from ledger.services.ledgers import personal_ledger

PENDING_TTL = 3600


def _busy_message(exc: SlotsBusy) -> str:
    return f"Another import is running on this server process. Try again in {exc.wait} s."


def _too_large_message(exc: BackupTooLarge) -> str:
    if isinstance(exc, BackupTooManyRows):  # the rows' limit, the same as the API's
        return exc.message
    return (
        f"The file is larger than the admin's limit of {exc.limit:,} bytes "
        "(ADMIN_IMPORT_MAX_BYTES): import it with `manage.py import_indexeddb`, which streams it."
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Backup file",
        help_text="The app's backup (가계부_백업_YYYY-MM-DD.json), a Dexie dump of the three "
        "tables, or this service's own export.",
    )
    mode = forms.ChoiceField(
        choices=[
            ("merge", "Merge: add what is not there yet (safe to repeat)"),
            ("replace", "Replace: the file replaces the user's data, as the app's restore did"),
        ],
        initial="merge",
        widget=forms.RadioSelect,
    )


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


def _log(model_admin, request, target, message: str) -> None:
    """A LogEntry on the user, so the export/import shows in the user's history."""
    model_admin.log_change(request, target, message)


def export_response(model_admin, request, target) -> StreamingHttpResponse:
    """The backup service's export document of `target` (this API's format), as a download."""
    if not model_admin.has_export_permission(request):
        raise PermissionDenied
    response = StreamingHttpResponse(
        backup_export(ledger=personal_ledger(user=target)),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = backup_content_disposition(
        filename=backup_export_filename(ledger=personal_ledger(user=target))
    )
    _log(model_admin, request, target, "Exported the user's data (backup document).")
    return response


def export_view(model_admin):
    def view(request, object_id):
        target = model_admin.get_target_or_404(request, unquote(object_id))
        return export_response(model_admin, request, target)

    return view


def _pending_key(token: str) -> str:
    return f"admin-import:{token}"


def report_summary(report) -> str:
    """One line for messages and the history: what the import did (or would do)."""
    verb = "would create" if report.dry_run else "created"
    created = report.created
    skipped = sum(report.skipped.values())
    text = (
        f"{report.format}, {report.mode}: {verb} {created['transactions']} transaction(s), "
        f"{created['recurring_transactions']} rule(s), {created['categories']} categor(y/ies)"
    )
    if created.get("occurrences"):
        text += f", {created['occurrences']} generated occurrence(s)"
    deleted = sum(report.deleted.values())
    if deleted:
        text += f"; {'would delete' if report.dry_run else 'deleted'} {deleted} row(s)"
    text += f"; {skipped} already there; {report.errors} error(s), {report.warnings} warning(s)"
    return text


def render_admin_page(request, model_admin, template: str, context: dict):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        **context,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, template, context)


def import_view(model_admin):
    def view(request, object_id):
        target = model_admin.get_target_or_404(request, unquote(object_id))
        if not model_admin.has_import_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:accounts_user_change", args=[target.pk])
        context = {
            "title": f"Import a file for {target}",
            "target": target,
            "change_url": change_url,
        }
        upload_form = ImportUploadForm()

        if request.method == "POST" and "token" in request.POST:
            confirm_form = ImportConfirmForm(request.POST)
            token = confirm_form.cleaned_data["token"] if confirm_form.is_valid() else ""
            pending = cache.get(_pending_key(token)) if token else None
            if (
                not pending
                or pending["staff"] != str(request.user.pk)
                or pending["user"] != str(target.pk)
            ):
                messages.error(request, "That preview expired or is not yours; upload again.")
                return HttpResponseRedirect(request.path)
            try:
                with IMPORT_SLOTS_OF_PROCESS.hold():
                    report = backup_import(
                        ledger=personal_ledger(user=target),
                        created_by=target,
                        file=io.BytesIO(pending["raw"]),
                        mode=pending["mode"],
                    )
            except SlotsBusy as busy:
                messages.error(request, _busy_message(busy))
                return HttpResponseRedirect(request.path)
            except BackupError as error:
                messages.error(request, f"Import refused, nothing was written: {error.message}")
                return HttpResponseRedirect(request.path)
            cache.delete(_pending_key(token))
            summary = report_summary(report)
            _log(model_admin, request, target, f"Imported {pending['name']}: {summary}")
            messages.success(request, f"Imported {pending['name']}: {summary}")
            return HttpResponseRedirect(change_url)

        if request.method == "POST":
            upload_form = ImportUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                upload = upload_form.cleaned_data["file"]
                mode = upload_form.cleaned_data["mode"]
                try:
                    with IMPORT_SLOTS_OF_PROCESS.hold():
                        raw = backup_read(stream=upload, max_bytes=settings.ADMIN_IMPORT_MAX_BYTES)
                        report = backup_import(
                            ledger=personal_ledger(user=target),
                            created_by=target,
                            file=io.BytesIO(raw),
                            mode=mode,
                            dry_run=True,
                        )
                except SlotsBusy as busy:
                    upload_form.add_error("file", _busy_message(busy))
                except BackupTooLarge as error:
                    upload_form.add_error("file", _too_large_message(error))
                except BackupError as error:
                    upload_form.add_error("file", error.message)
                else:
                    context.update(
                        report=report, summary=report_summary(report), file_name=upload.name
                    )
                    if report.ok:
                        token = secrets.token_urlsafe(24)
                        cache.set(
                            _pending_key(token),
                            {
                                "staff": str(request.user.pk),
                                "user": str(target.pk),
                                "raw": raw,
                                "mode": mode,
                                "name": upload.name,
                            },
                            PENDING_TTL,
                        )
                        context["confirm_form"] = ImportConfirmForm(initial={"token": token})
        context["upload_form"] = upload_form
        return render_admin_page(
            request, model_admin, "admin/accounts/user/import_form.html", context
        )

    return view
