// The page's widget manager: @jupyter-widgets/base-manager over one kernel connection
// (@jupyterlab/services), the way JupyterLab's and Voila's managers work, minus
// everything a single app page does not use.
import { shims, type IClassicComm, type WidgetModel, type WidgetView } from "@jupyter-widgets/base";
import { ManagerBase } from "@jupyter-widgets/base-manager";
import type { Kernel } from "@jupyterlab/services";
import type { JSONObject } from "@lumino/coreutils";
import { Widget } from "@lumino/widgets";
import { loadWidgetClass } from "./widget_classes";

export class PageWidgetManager extends ManagerBase {
  constructor(private readonly kernel: Kernel.IKernelConnection) {
    super();
    // Comms the kernel opens from now on (widgets created after the page connected).
    kernel.registerCommTarget(this.comm_target_name, (comm, msg) => {
      void this.handle_comm_open(new shims.services.Comm(comm), msg);
    });
  }

  /** The state of every widget the kernel already has (one round trip). */
  loadFromKernel(): Promise<void> {
    return this._loadFromKernel();
  }

  /** Build the view of `modelId` and attach it into `host`. */
  async renderInto(modelId: string, host: HTMLElement): Promise<WidgetView> {
    const model: WidgetModel = await this.get_model(modelId);
    const view = await this.create_view(model);
    Widget.attach(view.luminoWidget, host);
    return view;
  }

  protected loadClass(className: string, moduleName: string, moduleVersion: string) {
    return loadWidgetClass(className, moduleName, moduleVersion);
  }

  protected async _create_comm(
    targetName: string,
    modelId?: string,
    data?: JSONObject,
    metadata?: JSONObject,
    buffers?: ArrayBuffer[] | ArrayBufferView[],
  ): Promise<IClassicComm> {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data ?? {}, metadata, buffers);
    return new shims.services.Comm(comm);
  }

  protected async _get_comm_info(): Promise<Record<string, unknown>> {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }
}
