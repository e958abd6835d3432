"""The user admin's "export this user's data" and "import a file for this user" pages.

Both call the backup service (`ledger.services.backup`), exactly as `GET /backup/export` and
`POST /backup/import` do. The import is two steps: the upload runs the service as a dry run
and shows what it would do; the uploaded document waits in the cache (1 hour, bound to the
staff member and the target user) until "Confirm import" runs it for real.
"""

import json
import secrets

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

PENDING_TTL = 3600
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Backup file",
        help_text="The app's backup (가계부_백업_YYYY-MM-DD.json), a Dexie dump, or this "
        "service's own export.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
        return upload.read()


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


def _log(model_admin, request, target, message: str) -> None:
    """A LogEntry on the user, so the export/import shows in the user's history."""
    model_admin.log_change(request, target, message)


def export_response(model_admin, request, target) -> HttpResponse:
    """The backup service's export document for `target`, as a download."""
    from ledger.services.backup import backup_export

    if not model_admin.has_export_permission(request):
        raise PermissionDenied
    document = backup_export(user=target)
    body = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    filename = f"household_ledger_{target.pk}.json"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    _log(model_admin, request, target, "Exported the user's data (backup document).")
    return response


def export_view(model_admin):
    def view(request, object_id):
        target = model_admin.get_target_or_404(request, unquote(object_id))
        return export_response(model_admin, request, target)

    return view


def _pending_key(token: str) -> str:
    return f"admin-import:{token}"


def import_view(model_admin):
    from accounts.admin import render_admin_page

    def view(request, object_id):
        from ledger.services.backup import BackupError, backup_import

        target = model_admin.get_target_or_404(request, unquote(object_id))
        if not model_admin.has_import_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:accounts_user_change", args=[target.pk])
        context = {"title": f"Import a file for {target}", "target": target,
                   "change_url": change_url}
        upload_form = ImportUploadForm()

        if request.method == "POST" and "token" in request.POST:
            confirm_form = ImportConfirmForm(request.POST)
            pending = None
            if confirm_form.is_valid():
                pending = cache.get(_pending_key(confirm_form.cleaned_data["token"]))
            if (
                not pending
                or pending["staff"] != str(request.user.pk)
                or pending["user"] != str(target.pk)
            ):
                messages.error(request, "That preview expired or is not yours; upload again.")
                return HttpResponseRedirect(request.path)
            try:
                result = backup_import(user=target, raw=pending["raw"], dry_run=False)
            except BackupError as error:
                messages.error(request, f"Import failed, nothing was written: {error}")
                return HttpResponseRedirect(request.path)
            cache.delete(_pending_key(confirm_form.cleaned_data["token"]))
            summary = _summary(result)
            _log(model_admin, request, target, f"Imported {pending['name']}: {summary}")
            messages.success(request, f"Imported {pending['name']}: {summary}")
            return HttpResponseRedirect(change_url)

        if request.method == "POST":
            upload_form = ImportUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                raw = upload_form.cleaned_data["file"]
                name = request.FILES["file"].name
                try:
                    preview = backup_import(user=target, raw=raw, dry_run=True)
                except BackupError as error:
                    upload_form.add_error("file", str(error))
                else:
                    token = secrets.token_urlsafe(24)
                    cache.set(
                        _pending_key(token),
                        {"staff": str(request.user.pk), "user": str(target.pk), "raw": raw,
                         "name": name},
                        PENDING_TTL,
                    )
                    context.update(
                        preview=_summary(preview),
                        preview_result=preview,
                        file_name=name,
                        confirm_form=ImportConfirmForm(initial={"token": token}),
                    )
        context["upload_form"] = upload_form
        return render_admin_page(
            request, model_admin, "admin/accounts/user/import_form.html", context
        )

    return view


def _summary(result) -> str:
    return str(result)

